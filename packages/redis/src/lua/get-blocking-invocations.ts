import { LuaScript } from '../lua-script.js'
import { orchestratorPrelude } from './prelude.js'

/** Ranks the invocations others wait for (Orchestrator.getBlockingInvocations). */
export const getBlockingInvocations = new LuaScript(
  'get-blocking-invocations',
  `-- get-blocking-invocations: up to max ids that some invocation waits on, that wait on nothing
-- themselves and are available for run; most waiters first, then oldest, then by id. The
-- waited zset already holds that order (score = -waiters, member = padded creation time:id),
-- so the scan stops as soon as max ids qualify (and after SCAN_LIMIT entries at most).
-- KEYS[1..3] as the orchestrator prelude (only KEYS[2], the waited zset, is used)
-- ARGV[1] app prefix, ARGV[2] max, ARGV[3] scan limit
-- Returns: { ids, number of entries in the waited zset }
local max = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local out = {}
local start = 0
local page = 100
while #out < max and start < limit do
  local members = redis.call('ZRANGE', KEYS[2], start, start + page - 1)
  if #members == 0 then break end
  for _, m in ipairs(members) do
    local id = string.sub(m, 17)
    if redis.call('SCARD', K_waitingFor(id)) == 0 then
      local s = redis.call('HGET', K_invocation(id), 's')
      if s and AVAIL[s] then
        out[#out + 1] = id
        if #out >= max then break end
      end
    end
  end
  start = start + page
end
return { out, redis.call('ZCARD', KEYS[2]) }`,
  orchestratorPrelude(),
)
