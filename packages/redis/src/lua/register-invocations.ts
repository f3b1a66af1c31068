import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Creates REGISTERED invocations with registration-concurrency reuse (Orchestrator.register). */
export const registerInvocations = new LuaScript(
  'register-invocations',
  `-- register-invocations: create REGISTERED records, or reuse the REGISTERED invocation holding
-- the same registration key (one stored earlier or created earlier in this batch).
-- The fused route step (FusedSteps.route) also writes the invocation records first (as
-- upsert-invocations does, so an id a runner can see always has its record) and queues every id
-- not reused (as route-invocations does), all in this one atomic step.
-- KEYS[1] all-ids zset, KEYS[2] live (non-final) ids zset, both scored by creation time;
--   only when routing: KEYS[3] queue list
-- ARGV[1] app prefix, ARGV[2] routed channel ('' = do not queue), ARGV[3] n = number of record
--   arguments, ARGV[4 .. 3+n] records (id, JSON, parent id), then per request: id, task id,
--   call id, actor, registration key, running key ('' = none for both keys), reroute on
--   concurrency control ('1'/'0')
-- Returns: per request '' (created, or the id already existed) or the reused invocation's id.
local routed = ARGV[2]
local first = 4 + tonumber(ARGV[3])
-- Every key this call may write is checked first: foreign data writes nothing.
local bad = bad_keys({ 'zset', 'zset', 'list' })
for i = 4, first - 1, 3 do
  if bad then break end
  bad = bad_type(K_record(ARGV[i]), 'string')
  if not bad and ARGV[i + 2] ~= '' then bad = bad_type(K_children(ARGV[i + 2]), 'list') end
end
for i = first, #ARGV, 7 do
  if bad then break end
  local id, rk = ARGV[i], ARGV[i + 4]
  bad = bad_type(K_invocation(id), 'hash') or bad_type(K_history(id), 'list')
    or bad_type(K_byTask(ARGV[i + 1]), 'zset')
  if not bad and rk ~= '' then bad = bad_type(K_registered(rk), 'set') end
end
if bad then return redis.error_reply(bad) end
for i = 4, first - 1, 3 do
  local key = K_record(ARGV[i])
  if ARGV[i + 2] == '' then
    redis.call('SET', key, ARGV[i + 1])
  elseif not redis.call('SET', key, ARGV[i + 1], 'GET') then
    redis.call('RPUSH', K_children(ARGV[i + 2]), ARGV[i])
  end
end
local now = now_ms()
local out, fresh = {}, {}
for i = first, #ARGV, 7 do
  local id, task, call, actor, rk, nk, rr =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local key = K_invocation(id)
  local reused = false
  if redis.call('EXISTS', key) == 0 then
    if rk ~= '' then reused = redis.call('SRANDMEMBER', K_registered(rk)) end
    if not reused then
      -- Empty concurrency keys and a false reroute flag are left out: absent reads as ''.
      local fields = { 's', 'registered', 't', now, 'r', 0, 'a', 0, 'k', task, 'c', call, 'ca', now }
      if rk ~= '' then fields[#fields + 1] = 'rk'; fields[#fields + 1] = rk end
      if nk ~= '' then fields[#fields + 1] = 'nk'; fields[#fields + 1] = nk end
      if rr == '1' then fields[#fields + 1] = 'rr'; fields[#fields + 1] = rr end
      redis.call('HSET', key, unpack(fields))
      redis.call('RPUSH', K_history(id), 'registered' .. US .. US .. actor .. US .. now .. US .. '0')
      if rk ~= '' then redis.call('SADD', K_registered(rk), id) end
      redis.call('ZADD', KEYS[1], now, id)
      redis.call('ZADD', KEYS[2], now, id)
      redis.call('ZADD', K_byTask(task), now, id)
    end
  end
  out[#out + 1] = reused or ''
  if routed ~= '' and not reused then fresh[#fresh + 1] = id end
end
if #fresh > 0 then
  for i = 1, #fresh, 4000 do redis.call('RPUSH', KEYS[3], unpack(fresh, i, math.min(i + 3999, #fresh))) end
  redis.call('PUBLISH', routed, 0)
end
return out`,
  BASE_PRELUDE,
)
