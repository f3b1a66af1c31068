import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Removes satisfied conditions (TriggerStore.clearValidConditions). */
export const clearValidConditions = new LuaScript(
  'clear-valid-conditions',
  `-- clear-valid-conditions: remove items from the hash and the order zset together.
-- KEYS[1] valid-conditions hash, KEYS[2] order zset
-- ARGV[1] app prefix (unused), ARGV[2..] ids
-- Returns: number of items removed
if #ARGV < 2 then return 0 end
local removed = 0
for i = 2, #ARGV do
  removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return removed`,
  BASE_PRELUDE,
)
