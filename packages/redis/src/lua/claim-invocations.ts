import { LuaScript } from '../lua-script.js'
import { orchestratorPrelude } from './prelude.js'

/** Claims a batch of ids for a runner (Orchestrator.claim). */
export const claimInvocations = new LuaScript(
  'claim-invocations',
  `-- claim-invocations: for each id, in order and atomically: skip unless available for run;
-- when its running key is held by an active invocation, move it to a controlled status (or
-- defer it); else move it to PENDING owned by the runner. Ids claimed earlier in the batch
-- hold their running key for later ones (apply() maintains the running-key sets).
-- KEYS[1] active zset, KEYS[2] waited zset, KEYS[3] live ids zset
-- ARGV[1] app prefix, ARGV[2] final-status channel, ARGV[3] runner id,
--   ARGV[4] '1' to also return the claimed ids' state-backend records, ARGV[5..] ids
-- Returns: { now, then per id: code, retries, task id, record }  (false unless claimed; record
--   false too when not asked for or absent). Returning the record saves the runner the separate
--   getInvocations round trip when the state backend shares this connection.
--   code CL_CLAIMED | CL_CONTROLLED | CL_CONTROLLED_FINAL | CL_DEFERRED | CL_SKIPPED
--   error reply NENC_CORRUPT <key> when an invocation key holds foreign data (nothing written).
for i = 5, #ARGV do
  local e, bad = load(ARGV[i])
  if bad then return redis.error_reply(bad) end
end
local runner = ARGV[3]
local prefetch = ARGV[4] == '1'
-- pcall: a foreign value under a record key must not abort the claims already written; the
-- state backend's own read reports it.
local function record_of(id)
  local v = redis.pcall('GET', K_record(id))
  if type(v) == 'string' then return v end
  return false
end
local now = now_ms()
local out = { now }
for i = 5, #ARGV do
  local id = ARGV[i]
  local e = S[id]
  local code = CL_SKIPPED
  if e and AVAIL[e.s] then
    if e.nk ~= '' and redis.call('SCARD', K_running(e.nk)) > 0 then
      if e.rr ~= '1' and TO[e.s .. '>concurrency_controlled_final'] then
        apply(id, e, 'concurrency_controlled_final', runner, now)
        code = CL_CONTROLLED_FINAL
      elseif TO[e.s .. '>concurrency_controlled'] then
        apply(id, e, 'concurrency_controlled', runner, now)
        code = CL_CONTROLLED
      else
        code = CL_DEFERRED
      end
    elseif apply(id, e, 'pending', runner, now) == TR_OK then
      code = CL_CLAIMED
    end
  end
  out[#out + 1] = code
  if code == CL_CLAIMED then
    out[#out + 1] = e.r
    out[#out + 1] = e.k
    out[#out + 1] = prefetch and record_of(id)
  else
    out[#out + 1] = false
    out[#out + 1] = false
    out[#out + 1] = false
  end
end
publish_finals(ARGV[2])
return out`,
  orchestratorPrelude(),
)
