import { LuaScript } from '../lua-script.js'
import { orchestratorPrelude } from './prelude.js'

/** Applies a batch of status transitions atomically (Orchestrator.transition). */
export const transitionInvocations = new LuaScript(
  'transition-invocations',
  `-- transition-invocations: validate and apply status changes, in request order.
-- KEYS[1] active zset, KEYS[2] waited zset, KEYS[3] live ids zset
-- ARGV[1] app prefix, ARGV[2] final-status channel, ARGV[3] n = number of outcome arguments,
--   ARGV[4 .. 3+n] outcome key/value pairs to write first (outcomes staged by the state backend
--   on this connection: a final status and its outcome are written in one step),
--   then per request: id, to, actor ('' = none)
-- Returns: { now, then per request: code, status, owner, time, retries, task id }
--   code TR_OK (state after), TR_NOT_FOUND (rest false), TR_INVALID / TR_OWNERSHIP (stored state)
--   error reply NENC_CORRUPT <key> when an invocation key holds foreign data (nothing written).
local first = 4 + tonumber(ARGV[3])
for i = first, #ARGV, 3 do
  local e, bad = load(ARGV[i])
  if bad then return redis.error_reply(bad) end
end
for i = 4, first - 1, 1000 do
  redis.call('MSET', unpack(ARGV, i, math.min(i + 999, first - 1)))
end
local now = now_ms()
local out = { now }
for i = first, #ARGV, 3 do
  local id = ARGV[i]
  local e = S[id]
  if not e then
    out[#out + 1] = TR_NOT_FOUND
    for _ = 1, 5 do out[#out + 1] = false end
  else
    out[#out + 1] = apply(id, e, ARGV[i + 1], ARGV[i + 2], now)
    out[#out + 1] = e.s
    out[#out + 1] = e.o
    out[#out + 1] = e.t
    out[#out + 1] = e.r
    out[#out + 1] = e.k
  end
end
publish_finals(ARGV[2])
return out`,
  orchestratorPrelude(),
)
