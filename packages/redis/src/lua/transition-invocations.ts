import { LuaScript } from '../lua-script.js'
import { orchestratorPrelude, QUEUE_LUA } from './prelude.js'

/** Applies a batch of status transitions atomically (Orchestrator.transition). */
export const transitionInvocations = new LuaScript(
  'transition-invocations',
  `-- transition-invocations: validate and apply status changes, in request order; optionally
-- write staged outcomes first and claim the next queued ids for the runner whose slots the
-- batch frees (the runner's next retrieve + claim then cost no round trip).
-- KEYS[1] active zset, KEYS[2] waited zset, KEYS[3] live ids zset, KEYS[4] queue list,
--   KEYS[5] delayed zset
-- ARGV[1] app prefix, ARGV[2] final-status channel, ARGV[3] n = number of outcome arguments,
--   ARGV[4 .. 3+n] outcome key/value pairs to write first (outcomes staged by the state backend
--   on this connection: a final status and its outcome are written in one step),
--   ARGV[4+n] runner to claim next ids for ('' = none), ARGV[5+n] token of this call,
--   ARGV[6+n] '1' when replaying a call whose answer was lost: a request whose invocation
--   already carries this token was applied by it and is answered from the stored state,
--   then per request: id, to, actor
-- Returns: { now, then per request: code, status, owner, time, retries, task id,
--   then c = number of ids claimed next, then per claimed id: id, code, retries, task id, record }
--   code TR_OK (state after), TR_NOT_FOUND (rest false), TR_INVALID / TR_OWNERSHIP (stored state);
--   claim codes and fields as in claim-invocations. Up to one id is claimed per request that
--   moved an invocation out of the active statuses (a freed slot).
--   error reply NENC_CORRUPT <key> when a key it would write holds foreign data (nothing written).
local outcome_end = 3 + tonumber(ARGV[3])
local claim_runner = ARGV[outcome_end + 1]
TOKEN = ARGV[outcome_end + 2]
local replay = ARGV[outcome_end + 3] == '1'
local first = outcome_end + 4
local bad_key = bad_keys({ 'zset', 'zset', 'zset', 'list', 'zset' })
if bad_key then return redis.error_reply(bad_key) end
for i = 4, outcome_end, 2 do
  local bad = bad_type(ARGV[i], 'string')
  if bad then return redis.error_reply(bad) end
end
for i = first, #ARGV, 3 do
  local e, bad = load_writable(ARGV[i])
  if bad then return redis.error_reply(bad) end
end
for i = 4, outcome_end, 1000 do
  redis.call('MSET', unpack(ARGV, i, math.min(i + 999, outcome_end)))
end
local now = now_ms()
local out = { now }
local freed = 0
for i = first, #ARGV, 3 do
  local id = ARGV[i]
  local e = S[id]
  if not e then
    out[#out + 1] = TR_NOT_FOUND
    for _ = 1, 5 do out[#out + 1] = false end
  else
    local before = e.s
    local code = TR_OK
    if not (replay and e.q == TOKEN) then code = apply(id, e, ARGV[i + 1], ARGV[i + 2], now) end
    if code == TR_OK and ACTIVE[before] and not ACTIVE[e.s] then freed = freed + 1 end
    local n = #out
    out[n + 1] = code
    out[n + 2] = e.s
    out[n + 3] = e.o
    out[n + 4] = e.t
    out[n + 5] = e.r
    out[n + 6] = e.k
  end
end
local claimed = {}
if claim_runner ~= '' and freed > 0 then
  move_due(KEYS[4], KEYS[5], tonumber(now))
  claimed = redis.call('LPOP', KEYS[4], freed) or {}
end
out[#out + 1] = #claimed
local slots, with_record = {}, {}
for _, id in ipairs(claimed) do
  -- An unreadable popped id is skipped (a plain claim would have reported it and dropped it too).
  local e = load_writable(id)
  local code = claim_one(id, e, claim_runner, now)
  local n = #out
  out[n + 1] = id
  out[n + 2] = code
  if code == CL_CLAIMED then
    out[n + 3] = e.r
    out[n + 4] = e.k
    out[n + 5] = false
    slots[#slots + 1] = n + 5
    with_record[#with_record + 1] = id
  else
    out[n + 3] = false
    out[n + 4] = false
    out[n + 5] = false
  end
end
fill_records(out, slots, with_record)
publish_finals(ARGV[2])
return out`,
  `${orchestratorPrelude()}\n${QUEUE_LUA}`,
)
