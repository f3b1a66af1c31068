import { CORRUPT_REPLY } from '../errors-from-code.js'
import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Stores outcomes write-once under (id, attempt) (StateBackend.setOutcomes). */
export const setOutcomes = new LuaScript(
  'set-outcomes',
  `-- set-outcomes: HSETNX each outcome into its invocation's outcome hash under the attempt
-- (field = attempt): a second write for the same attempt keeps the first.
-- KEYS: none (per-id keys are built from the prefix)
-- ARGV[1] app prefix, then per outcome: id, attempt, encoded outcome
-- Returns: number of outcomes stored now; error reply ${CORRUPT_REPLY} <key> when an outcome key
--   holds foreign data (nothing written).
for i = 2, #ARGV, 3 do
  local bad = bad_type(K_outcome(ARGV[i]), 'hash')
  if bad then return redis.error_reply(bad) end
end
local n = 0
for i = 2, #ARGV, 3 do n = n + redis.call('HSETNX', K_outcome(ARGV[i]), ARGV[i + 1], ARGV[i + 2]) end
return n`,
  BASE_PRELUDE,
)

/** Reads outcomes by (id, attempt) (StateBackend.getOutcomes). */
export const getOutcomes = new LuaScript(
  'get-outcomes',
  `-- get-outcomes: the outcome of each (id, attempt), false where that attempt has none.
-- KEYS: none (per-id keys are built from the prefix)
-- ARGV[1] app prefix, then per ref: id, attempt
-- Returns: per ref the encoded outcome or false; error reply ${CORRUPT_REPLY} <key> when an
--   outcome key holds foreign data.
local out = {}
for i = 2, #ARGV, 2 do
  local key = K_outcome(ARGV[i])
  local o = redis.pcall('HGET', key, ARGV[i + 1])
  if type(o) == 'table' and o.err then return redis.error_reply('${CORRUPT_REPLY} ' .. key) end
  out[#out + 1] = o
end
return out`,
  BASE_PRELUDE,
)
