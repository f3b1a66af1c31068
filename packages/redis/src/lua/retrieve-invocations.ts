import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Pops ready ids (Broker.retrieve), first moving due delayed ids to the queue. */
export const retrieveInvocations = new LuaScript(
  'retrieve-invocations',
  `-- retrieve-invocations: move delayed ids that are due (server time) to the queue's tail,
-- then pop up to max ids from its head (LPOP with count).
-- KEYS[1] queue list, KEYS[2] delayed zset
-- ARGV[1] app prefix (unused), ARGV[2] max (0 = only move due ids)
-- Returns: { ids, ms until the next delayed id is due (-1 = none) }
local next_due = -1
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[1] then
  local now = tonumber(now_ms())
  while first[1] and tonumber(first[2]) <= now do
    local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
    local ids = {}
    for i, m in ipairs(due) do ids[i] = string.sub(m, string.find(m, ':', 1, true) + 1) end
    redis.call('RPUSH', KEYS[1], unpack(ids))
    redis.call('ZREM', KEYS[2], unpack(due))
    first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  end
  if first[1] then next_due = tonumber(first[2]) - now end
end
local max = tonumber(ARGV[2])
local ids = {}
if max > 0 then ids = redis.call('LPOP', KEYS[1], max) or {} end
return { ids, next_due }`,
  BASE_PRELUDE,
)
