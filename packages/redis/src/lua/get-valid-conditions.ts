import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Reads satisfied conditions in insertion order (TriggerStore.getValidConditions). */
export const getValidConditions = new LuaScript(
  'get-valid-conditions',
  `-- get-valid-conditions: every stored item in insertion order.
-- KEYS[1] valid-conditions hash, KEYS[2] order zset
-- ARGV[1] app prefix (unused)
-- Returns: flat { id, JSON value, ... }
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local v = redis.call('HGET', KEYS[1], id)
  if v then
    out[#out + 1] = id
    out[#out + 1] = v
  end
end
return out`,
  BASE_PRELUDE,
)
