import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE, QUEUE_LUA } from './prelude.js'

/** Pops ready ids (Broker.retrieve), first moving due delayed ids to the queue. */
export const retrieveInvocations = new LuaScript(
  'retrieve-invocations',
  `-- retrieve-invocations: move delayed ids that are due (server time) to the queue's tail,
-- then pop up to max ids from its head (LPOP with count).
-- KEYS[1] queue list, KEYS[2] delayed zset
-- ARGV[1] app prefix (unused), ARGV[2] max (0 = only move due ids)
-- Returns: { ids, ms until the next delayed id is due (-1 = none) }
local next_due = -1
if redis.call('EXISTS', KEYS[2]) == 1 then next_due = move_due(KEYS[1], KEYS[2], tonumber(now_ms())) end
local max = tonumber(ARGV[2])
local ids = {}
if max > 0 then ids = redis.call('LPOP', KEYS[1], max) or {} end
return { ids, next_due }`,
  `${BASE_PRELUDE}\n${QUEUE_LUA}`,
)
