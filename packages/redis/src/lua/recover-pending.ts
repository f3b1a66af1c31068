import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** PENDING ids stuck too long (Orchestrator.getPendingForRecovery). */
export const recoverPending = new LuaScript(
  'recover-pending',
  `-- recover-pending: PENDING ids whose status time is older than the threshold (server time).
-- KEYS[1] pending zset (score = time the id entered PENDING)
-- ARGV[1] app prefix (unused), ARGV[2] older than ms, ARGV[3] limit
-- Returns: ids, oldest first
local before = tonumber(now_ms()) - tonumber(ARGV[2])
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. before, 'LIMIT', 0, tonumber(ARGV[3]))`,
  BASE_PRELUDE,
)
