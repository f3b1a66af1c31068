import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Lists runners with a recent heartbeat (Orchestrator.getActiveRunners). */
export const getActiveRunners = new LuaScript(
  'get-active-runners',
  `-- get-active-runners: runners whose last heartbeat is within the timeout (server time).
-- KEYS[1] heartbeat zset, KEYS[2] created-at hash, KEYS[3] atomic-service hash
-- ARGV[1] app prefix (unused), ARGV[2] timeout ms
-- Returns: flat { runner id, created at, last heartbeat, atomic flag, ... } (unordered)
local since = tonumber(now_ms()) - tonumber(ARGV[2])
local live = redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf', 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  local id = live[i]
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or live[i + 1]
  out[#out + 1] = live[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[3], id) or '0'
end
return out`,
  BASE_PRELUDE,
)
