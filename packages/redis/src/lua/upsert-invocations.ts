import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Stores invocation records and the parent → children lists (StateBackend.upsertInvocations). */
export const upsertInvocations = new LuaScript(
  'upsert-invocations',
  `-- upsert-invocations: SET each record; a record seen for the first time with a parent is
-- appended to the parent's children list (SET ... GET tells whether it existed).
-- KEYS: none (per-id keys are built from the prefix)
-- ARGV[1] app prefix, then per record: id, JSON record, parent id ('' = none)
-- Returns: number of records; error reply NENC_CORRUPT <key> when a key it would write holds
--   foreign data (nothing written).
for i = 2, #ARGV, 3 do
  local bad = bad_type(K_record(ARGV[i]), 'string')
  if not bad and ARGV[i + 2] ~= '' then bad = bad_type(K_children(ARGV[i + 2]), 'list') end
  if bad then return redis.error_reply(bad) end
end
for i = 2, #ARGV, 3 do
  local key = K_record(ARGV[i])
  if ARGV[i + 2] == '' then
    redis.call('SET', key, ARGV[i + 1])
  elseif not redis.call('SET', key, ARGV[i + 1], 'GET') then
    redis.call('RPUSH', K_children(ARGV[i + 2]), ARGV[i])
  end
end
return (#ARGV - 1) / 3`,
  BASE_PRELUDE,
)
