import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** PENDING ids stuck too long (Orchestrator.getPendingForRecovery). */
export const recoverPending = new LuaScript(
  'recover-pending',
  `-- recover-pending: PENDING ids that entered PENDING before now - threshold (server time). The
-- active zset is scored by claim time and holds only claimed ids, so the scan is bounded by
-- the number of invocations claimed longer ago than the threshold.
-- KEYS[1] active zset
-- ARGV[1] app prefix, ARGV[2] older than ms, ARGV[3] limit
-- Returns: ids, oldest first
local before = tonumber(now_ms()) - tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local out = {}
local start = 0
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. before, 'LIMIT', start, 500)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if redis.call('HGET', K_invocation(id), 's') == 'pending' then
      out[#out + 1] = id
      if #out >= limit then break end
    end
  end
  start = start + 500
end
return out`,
  BASE_PRELUDE,
)
