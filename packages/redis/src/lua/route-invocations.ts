import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Queues ids, now or after a delay, and announces them (Broker.route). */
export const routeInvocations = new LuaScript(
  'route-invocations',
  `-- route-invocations: append ids to the queue, or with a delay to the delayed zset (member
-- '<seq>:<id>' so duplicates stay distinct, score = server time when due), then PUBLISH the
-- delay on the routed channel so subscribers wake now or set a timer for it.
-- KEYS[1] queue list, KEYS[2] delayed zset, KEYS[3] delayed sequence counter
-- ARGV[1] app prefix (unused), ARGV[2] routed channel, ARGV[3] delay ms, ARGV[4..] ids
-- Returns: number of ids routed
local n = #ARGV - 3
if n <= 0 then return 0 end
local bad = bad_keys({ 'list', 'zset', 'string' })
if bad then return redis.error_reply(bad) end
local delay = tonumber(ARGV[3])
local chunk = 4000
if delay <= 0 then
  for i = 4, #ARGV, chunk do
    redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + chunk - 1, #ARGV)))
  end
else
  local due = tonumber(now_ms()) + delay
  local seq = redis.call('INCRBY', KEYS[3], n) - n
  local args = {}
  for i = 4, #ARGV do
    seq = seq + 1
    args[#args + 1] = due
    args[#args + 1] = seq .. ':' .. ARGV[i]
    if #args >= chunk then
      redis.call('ZADD', KEYS[2], unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('ZADD', KEYS[2], unpack(args)) end
end
redis.call('PUBLISH', ARGV[2], delay > 0 and delay or 0)
return n`,
  BASE_PRELUDE,
)
