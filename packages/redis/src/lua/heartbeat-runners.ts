import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Records runner heartbeats (Orchestrator.heartbeat). */
export const heartbeatRunners = new LuaScript(
  'heartbeat-runners',
  `-- heartbeat-runners: last heartbeat = now for each runner; the first one also sets createdAt.
-- KEYS[1] heartbeat zset, KEYS[2] created-at hash, KEYS[3] atomic-service hash
-- ARGV[1] app prefix (unused), ARGV[2] can run atomic service ('1'/'0'), ARGV[3..] runner ids
-- Returns: now
local now = now_ms()
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], now, ARGV[i])
  redis.call('HSETNX', KEYS[2], ARGV[i], now)
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[2])
end
return now`,
  BASE_PRELUDE,
)
