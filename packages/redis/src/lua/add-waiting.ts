import { LuaScript } from '../lua-script.js'
import { orchestratorPrelude } from './prelude.js'

/** Records blocking-control edges (Orchestrator.addWaiting). */
export const addWaiting = new LuaScript(
  'add-waiting',
  `-- add-waiting: the waiter waits for each waited id that exists and is not final. Each new
-- edge adds one waiter to the waited id's rank in the waited zset (score = -waiters).
-- KEYS[1..3] as the orchestrator prelude (only KEYS[2], the waited zset, is used)
-- ARGV[1] app prefix, ARGV[2] waiter id, ARGV[3] waits channel, ARGV[4..] waited ids
-- Returns: number of new edges (when > 0, published on the waits channel so runners that
--   skip blocking-control queries while no edge exists query again)
--   error reply NENC_CORRUPT <key> when an invocation key holds foreign data (nothing written).
local bad_key = bad_type(KEYS[2], 'zset') or bad_type(K_waitingFor(ARGV[2]), 'set')
  or bad_type(K_invocation(ARGV[2]), 'hash')
if bad_key then return redis.error_reply(bad_key) end
for i = 4, #ARGV do
  local e, bad = load(ARGV[i])
  if not bad and e then bad = bad_type(K_waitedBy(ARGV[i]), 'set') end
  if bad then return redis.error_reply(bad) end
end
local waiter = ARGV[2]
local added = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local e = S[id]
  if e and not FINAL[e.s] then
    redis.call('SADD', K_waitingFor(waiter), id)
    if redis.call('SADD', K_waitedBy(id), waiter) == 1 then
      added = added + 1
      redis.call('ZINCRBY', KEYS[2], -1, waited_member(e.ca, id))
      if e.w ~= '1' then
        redis.call('HSET', K_invocation(id), 'w', '1')
        e.w = '1'
      end
    end
  end
end
-- The waiter's flag lets its final transition release its own edges; an unknown waiter gets no
-- hash (it would look like a registered invocation otherwise).
if added > 0 and redis.call('EXISTS', K_invocation(waiter)) == 1 then
  redis.call('HSET', K_invocation(waiter), 'w', '1')
end
if added > 0 then redis.call('PUBLISH', ARGV[3], added) end
return added`,
  orchestratorPrelude(),
)
