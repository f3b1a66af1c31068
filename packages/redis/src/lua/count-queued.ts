import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Counts retrievable ids (Broker.count). */
export const countQueued = new LuaScript(
  'count-queued',
  `-- count-queued: ids in the queue plus delayed ids already due (duplicates counted).
-- KEYS[1] queue list, KEYS[2] delayed zset
-- ARGV[1] app prefix (unused)
-- Returns: count
return redis.call('LLEN', KEYS[1]) + redis.call('ZCOUNT', KEYS[2], '-inf', now_ms())`,
  BASE_PRELUDE,
)
