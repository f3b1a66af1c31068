import { CORRUPT_REPLY } from '../errors-from-code.js'
import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE, luaStatusTable } from './prelude.js'

/** Reads the status records of a batch of ids (Orchestrator.getStates, FusedSteps.readFinal). */
export const getStates = new LuaScript(
  'get-states',
  `-- get-states: status record of each id, validated against the status table. Result waiters
-- poll through it, so it reads only the six fields it returns. The fused read-final step also
-- reads the outcome of each final state's attempt (one HGET), in the same call.
-- KEYS: none (per-id keys are built from the prefix)
-- ARGV[1] app prefix, ARGV[2] '1' to read the outcomes of final states, ARGV[3..] ids
-- Returns: per id: status, owner, time, retries, task id, attempt (all false for an unknown
--   id), then the outcome when asked for (false when none or not final)
--   error reply ${CORRUPT_REPLY} <key> when an invocation or outcome key holds foreign data.
local with_outcome = ARGV[2] == '1'
local out = {}
for i = 3, #ARGV do
  local key = K_invocation(ARGV[i])
  local r = redis.pcall('HMGET', key, 's', 'o', 't', 'r', 'k', 'a')
  if r.err or (r[1] and (not STATUS[r[1]] or not tonumber(r[4]) or not tonumber(r[6] or '0'))) then
    return redis.error_reply('${CORRUPT_REPLY} ' .. key)
  end
  local n = #out
  out[n + 1] = r[1]
  out[n + 2] = r[2]
  out[n + 3] = r[3]
  out[n + 4] = r[1] and tonumber(r[4])
  out[n + 5] = r[5]
  out[n + 6] = r[1] and tonumber(r[6] or '0')
  if with_outcome then
    local o = false
    if r[1] and FINAL[r[1]] then
      local okey = K_outcome(ARGV[i])
      o = redis.pcall('HGET', okey, tonumber(r[6] or '0'))
      if type(o) == 'table' and o.err then return redis.error_reply('${CORRUPT_REPLY} ' .. okey) end
    end
    out[n + 7] = o
  end
end
return out`,
  `${BASE_PRELUDE}\n${luaStatusTable()}`,
)
