import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Executing ids whose owner stopped heartbeating (Orchestrator.getRunningForRecovery). */
export const recoverRunning = new LuaScript(
  'recover-running',
  `-- recover-running: RUNNING/PAUSED/RESUMED ids whose owner has no heartbeat within the
-- threshold (an owner that never sent one counts as dead).
-- KEYS[1] executing set, KEYS[2] heartbeat zset
-- ARGV[1] app prefix, ARGV[2] dead after ms, ARGV[3] limit
-- Returns: ids
local since = tonumber(now_ms()) - tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local out = {}
local alive = {}
if limit <= 0 then return out end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local owner = redis.call('HGET', K_invocation(id), 'o') or ''
  local ok = alive[owner]
  if ok == nil then
    local last = owner ~= '' and redis.call('ZSCORE', KEYS[2], owner)
    ok = last and tonumber(last) >= since or false
    alive[owner] = ok
  end
  if not ok then
    out[#out + 1] = id
    if #out >= limit then break end
  end
end
return out`,
  BASE_PRELUDE,
)
