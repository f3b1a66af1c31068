import { LuaScript } from '../lua-script.js'
import { orchestratorPrelude, QUEUE_LUA } from './prelude.js'

/**
 * Applies a batch of status transitions atomically (Orchestrator.transition); with its optional
 * parts it is also the fused finish and claim-queued steps (FusedSteps.finish / claimQueued).
 */
export const transitionInvocations = new LuaScript(
  'transition-invocations',
  `-- transition-invocations: validate and apply status changes, in request order. A request
-- naming an attempt is applied only while the stored attempt is that one (else TR_STALE,
-- nothing written). The fused finish step adds, per accepted request: its outcome (HSETNX under
-- the attempt, write-once) and, for RETRY, its queueing after a delay; and after all requests:
-- pop up to claim max queued ids and claim them for the runner, with their records (with
-- start, each claimed one then moved on to RUNNING for the runner). With no requests it is the
-- fused claim-queued step.
-- KEYS[1] active zset, KEYS[2] waited zset, KEYS[3] live ids zset; only when routing or
--   claiming: KEYS[4] queue list, KEYS[5] delayed zset, KEYS[6] delayed sequence counter
-- ARGV[1] app prefix, ARGV[2] final-status channel, ARGV[3] token of this call,
--   ARGV[4] '0', or when replaying a call whose answer was lost, how many ms ago it was sent: a
--   request whose invocation already carries this token was applied by it and is answered from
--   the stored state, and what its claim part claimed (active since then, owned by the claim
--   runner, carrying the token) is returned claimed again before anything new is popped,
--   ARGV[5] routed channel (for RETRY delays; '' = none), ARGV[6] runner to claim for,
--   ARGV[7] claim max (0 = claim nothing), ARGV[8] '1' to start what is claimed (PENDING then
--   RUNNING, fenced by the new attempt; the claim's fields are then the RUNNING state's),
--   then per request: id, to, actor, attempt ('' = not fenced), outcome ('' = none),
--   RETRY delay ms ('' = not queued)
-- Returns: { now, then per request: code, status, owner, time, retries, task id, attempt,
--   released (the id unparked from the running key this change freed, false = none),
--   then saw queued ('1'/'0'), ms until the next delayed id is due (-1 = none / not asked),
--   c = number of ids claimed, then per popped id: id, code, retries, task id, attempt, record }
--   code TR_OK (state after), TR_NOT_FOUND (rest false), TR_INVALID / TR_OWNERSHIP / TR_STALE
--   (stored state); claim codes and fields as in claim-invocations. A popped id whose key holds
--   foreign data is skipped.
--   error reply NENC_CORRUPT <key> when a key it would write holds foreign data (nothing written).
local W = 6
TOKEN = ARGV[3]
local replay = ARGV[4] ~= '0'
local routed = ARGV[5]
local claim_runner = ARGV[6]
local claim_max = tonumber(ARGV[7])
local claim_start = ARGV[8] == '1'
local first = 9
local bad = bad_keys({ 'zset', 'zset', 'zset', 'list', 'zset', 'string' })
if bad then return redis.error_reply(bad) end
for i = first, #ARGV, W do
  local e
  e, bad = load_writable(ARGV[i])
  if not bad and e and ARGV[i + 4] ~= '' then bad = bad_type(K_outcome(ARGV[i]), 'hash') end
  if bad then return redis.error_reply(bad) end
end
local now = now_ms()
local out = { now }
local queued, delays = {}, {}
for i = first, #ARGV, W do
  local id = ARGV[i]
  local e = S[id]
  if not e then
    out[#out + 1] = TR_NOT_FOUND
    for _ = 1, 7 do out[#out + 1] = false end
  else
    -- A replayed request that the lost call applied reports no release: recovery re-offers
    -- what it may have unparked (orchestrator.parkedRecheckMs).
    local code, released = TR_OK, nil
    if not (replay and e.q == TOKEN) then
      code, released = apply(id, e, ARGV[i + 1], ARGV[i + 2], now, ARGV[i + 3])
      if code == TR_OK then
        if ARGV[i + 4] ~= '' and redis.call('HSETNX', K_outcome(id), e.a, ARGV[i + 4]) == 1 then
          final_outcome(id, ARGV[i + 4])
        end
        local delay = ARGV[i + 5]
        if delay ~= '' then
          if not queued[delay] then
            queued[delay] = {}
            delays[#delays + 1] = delay
          end
          local q = queued[delay]
          q[#q + 1] = id
        end
      end
    end
    local n = #out
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = code, e.s, e.o, e.t
    out[n + 5], out[n + 6], out[n + 7], out[n + 8] = e.r, e.k, e.a, released or false
  end
end
-- Accepted RETRYs queued again, as route-invocations does.
for _, delay in ipairs(delays) do
  local ids, d = queued[delay], tonumber(delay)
  if d <= 0 then
    redis.call('RPUSH', KEYS[4], unpack(ids))
  else
    local due = tonumber(now) + d
    local seq = redis.call('INCRBY', KEYS[6], #ids) - #ids
    local args = {}
    for _, id in ipairs(ids) do
      seq = seq + 1
      args[#args + 1] = due
      args[#args + 1] = seq .. ':' .. id
    end
    redis.call('ZADD', KEYS[5], unpack(args))
  end
  redis.call('PUBLISH', routed, d > 0 and d or 0)
end
-- Claim next: the broker's retrieve (move due ids, pop) then claim-invocations with records.
local popped, next_due = {}, -1
if claim_max > 0 and replay then
  -- The lost call's claims: nobody else knows of them (its runner never saw the answer).
  local requested = {}
  for i = first, #ARGV, W do requested[ARGV[i]] = true end
  local since = tonumber(now) - tonumber(ARGV[4]) - 1000
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf')) do
    if #popped >= claim_max then break end
    if not requested[id] then
      local e = load_writable(id)
      if e and e.q == TOKEN and e.o == claim_runner and (e.s == 'pending' or e.s == 'running') then
        popped[#popped + 1] = id
      end
    end
  end
end
local reclaimed = #popped
if claim_max > reclaimed then
  next_due = move_due(KEYS[4], KEYS[5], tonumber(now))
  for _, id in ipairs(redis.call('LPOP', KEYS[4], claim_max - reclaimed) or {}) do
    popped[#popped + 1] = id
  end
end
out[#out + 1] = #popped > 0 and '1' or '0'
out[#out + 1] = next_due
local count_at = #out + 1
out[count_at] = 0
local slots, with_record, seen = {}, {}, {}
for n, id in ipairs(popped) do
  if not seen[id] then
    seen[id] = true
    -- An unreadable popped id is skipped: left in the queue it would be popped again for ever.
    local e = load_writable(id)
    out[count_at] = out[count_at] + 1
    out[#out + 1] = id
    local code = CL_CLAIMED
    if n > reclaimed then code = claim_one(id, e, claim_runner, now, claim_start) end
    push_claim(out, id, e, code, slots, with_record)
  end
end
fill_records(out, slots, with_record)
publish_finals(ARGV[2])
return out`,
  `${orchestratorPrelude()}\n${QUEUE_LUA}`,
)
