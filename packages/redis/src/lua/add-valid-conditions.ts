import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Records satisfied conditions once per id (TriggerStore.addValidConditions). */
export const addValidConditions = new LuaScript(
  'add-valid-conditions',
  `-- add-valid-conditions: store each (id, value) unless the id is already stored, and remember
-- the insertion order.
-- KEYS[1] valid-conditions hash, KEYS[2] order zset
-- ARGV[1] app prefix (unused), then per item: id, JSON { conditionId, context }
-- Returns: number of new items
local added = 0
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local seq = tonumber(last[2] or '0')
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    seq = seq + 1
    redis.call('ZADD', KEYS[2], seq, ARGV[i])
    added = added + 1
  end
end
return added`,
  BASE_PRELUDE,
)
