import { CORRUPT_REPLY } from '../errors-from-code.js'
import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE, luaStatusTable } from './prelude.js'

/** Reads the status records of a batch of ids (Orchestrator.getStates). */
export const getStates = new LuaScript(
  'get-states',
  `-- get-states: status record of each id, validated against the status table. Result waiters
-- poll through it, so it reads only the five fields it returns.
-- KEYS: none (per-id keys are built from the prefix)
-- ARGV[1] app prefix, ARGV[2..] ids
-- Returns: per id: status, owner, time, retries, task id (all false for an unknown id)
--   error reply ${CORRUPT_REPLY} <key> when an invocation key holds foreign data.
local out = {}
for i = 2, #ARGV do
  local key = K_invocation(ARGV[i])
  local r = redis.pcall('HMGET', key, 's', 'o', 't', 'r', 'k')
  if r.err or (r[1] and (not STATUS[r[1]] or not tonumber(r[4]))) then
    return redis.error_reply('${CORRUPT_REPLY} ' .. key)
  end
  local n = #out
  out[n + 1] = r[1]
  out[n + 2] = r[2]
  out[n + 3] = r[3]
  out[n + 4] = r[1] and tonumber(r[4])
  out[n + 5] = r[5]
end
return out`,
  `${BASE_PRELUDE}\n${luaStatusTable()}`,
)
