import { LuaScript } from '../lua-script.js'
import { orchestratorPrelude } from './prelude.js'

/** Claims a batch of ids for a runner (Orchestrator.claim, FusedSteps.claimIds). */
export const claimInvocations = new LuaScript(
  'claim-invocations',
  `-- claim-invocations: for each id, in order and atomically, claim_one(): skip unless available
-- for run; when its running key is held by an active invocation, move it to a controlled status
-- (or defer it); else move it to PENDING owned by the runner, starting its next attempt. Ids
-- claimed earlier in the batch hold their running key for later ones (apply() maintains the
-- running-key sets).
-- KEYS[1] active zset, KEYS[2] waited zset, KEYS[3] live ids zset
-- ARGV[1] app prefix, ARGV[2] final-status channel, ARGV[3] runner id,
--   ARGV[4] '1' to also return the claimed ids' state-backend records (FusedSteps.claimIds),
--   ARGV[5..] ids
-- Returns: { now, then per id: code, retries, task id, attempt, record }  (false unless
--   claimed; record false too when not asked for or absent).
--   code CL_CLAIMED | CL_CONTROLLED | CL_CONTROLLED_FINAL | CL_DEFERRED | CL_SKIPPED
--   error reply NENC_CORRUPT <key> when a key it would write holds foreign data (nothing written).
local bad_key = bad_keys({ 'zset', 'zset', 'zset' })
if bad_key then return redis.error_reply(bad_key) end
for i = 5, #ARGV do
  local e, bad = load_writable(ARGV[i])
  if bad then return redis.error_reply(bad) end
end
local runner = ARGV[3]
local slots, claimed
if ARGV[4] == '1' then slots, claimed = {}, {} end
local now = now_ms()
local out = { now }
for i = 5, #ARGV do
  local id = ARGV[i]
  local e = S[id]
  push_claim(out, id, e, claim_one(id, e, runner, now), slots, claimed)
end
if slots then fill_records(out, slots, claimed) end
publish_finals(ARGV[2])
return out`,
  orchestratorPrelude(),
)
