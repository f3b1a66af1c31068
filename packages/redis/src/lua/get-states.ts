import { LuaScript } from '../lua-script.js'
import { orchestratorPrelude } from './prelude.js'

/** Reads the status records of a batch of ids (Orchestrator.getStates). */
export const getStates = new LuaScript(
  'get-states',
  `-- get-states: status record of each id, validated against the status table.
-- KEYS: none (per-id keys are built from the prefix)
-- ARGV[1] app prefix, ARGV[2..] ids
-- Returns: per id: status, owner, time, retries, task id (all false for an unknown id)
--   error reply NENC_CORRUPT <key> when an invocation key holds foreign data.
local out = {}
for i = 2, #ARGV do
  local e, bad = load(ARGV[i])
  if bad then return redis.error_reply(bad) end
  if e then
    out[#out + 1] = e.s
    out[#out + 1] = e.o
    out[#out + 1] = e.t
    out[#out + 1] = e.r
    out[#out + 1] = e.k
  else
    for _ = 1, 5 do out[#out + 1] = false end
  end
end
return out`,
  orchestratorPrelude(),
)
