import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Stores an event and drops the app's events older than the retention (TriggerStore.addEvent). */
export const addEvent = new LuaScript(
  'add-event',
  `-- add-event: store one event, then trim every event emitted before the retention bound.
-- KEYS[1] events hash (id -> JSON), KEYS[2] events zset (score emittedAt), KEYS[3] this code's zset
-- ARGV[1] app prefix, ARGV[2] id, ARGV[3] JSON event, ARGV[4] emittedAt, ARGV[5] oldest kept
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
for _, id in ipairs(old) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then
    local ok, e = pcall(cjson.decode, raw)
    if ok and type(e) == 'table' and type(e.code) == 'string' then
      redis.call('ZREM', K_eventsByCode(e.code), id)
    end
    redis.call('HDEL', KEYS[1], id)
  end
  redis.call('ZREM', KEYS[2], id)
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
return 1`,
  BASE_PRELUDE,
)
