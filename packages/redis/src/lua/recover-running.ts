import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE, luaSet } from './prelude.js'

/** Statuses dead-owner recovery looks at (Orchestrator.getRunningForRecovery). */
const EXECUTING_STATUSES = ['running', 'paused', 'resumed']

/** Executing ids whose owner stopped heartbeating (Orchestrator.getRunningForRecovery). */
export const recoverRunning = new LuaScript(
  'recover-running',
  `-- recover-running: RUNNING/PAUSED/RESUMED ids whose owner has no heartbeat within the
-- threshold (an owner that never sent one counts as dead). Scans the active zset, which
-- holds only claimed invocations.
-- KEYS[1] active zset, KEYS[2] heartbeat zset
-- ARGV[1] app prefix, ARGV[2] dead after ms, ARGV[3] limit
-- Returns: ids
local EXECUTING = ${luaSet(EXECUTING_STATUSES)}
local since = tonumber(now_ms()) - tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local out = {}
local alive = {}
local start = 0
while #out < limit do
  local ids = redis.call('ZRANGE', KEYS[1], start, start + 499)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local r = redis.call('HMGET', K_invocation(id), 's', 'o')
    if r[1] and EXECUTING[r[1]] then
      local owner = r[2] or ''
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
  end
  start = start + 500
end
return out`,
  BASE_PRELUDE,
)
