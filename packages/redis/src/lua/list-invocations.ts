import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Lists ids newest first, filtered by task and statuses (Orchestrator.listInvocations). */
export const listInvocations = new LuaScript(
  'list-invocations',
  `-- list-invocations: ids newest first (equal times: greater id first), keeping only the given
-- statuses, after skipping offset. Source: all ids or one task's; when every wanted status is
-- non-final, the smaller live-ids zset is scanned instead (recovery asks for available ids
-- among millions of finished ones), checking the task id per entry.
-- KEYS[1] all-ids or task zset, KEYS[2] live ids zset
-- ARGV[1] app prefix, ARGV[2] offset, ARGV[3] limit, ARGV[4] task id ('' = any),
--   ARGV[5] '1' when every status is non-final, ARGV[6..] statuses (none = any)
-- Returns: ids
local offset = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if limit <= 0 then return {} end
if #ARGV < 6 then return redis.call('ZREVRANGE', KEYS[1], offset, offset + limit - 1) end
local src = KEYS[1]
local task = false
if ARGV[5] == '1' and redis.call('ZCARD', KEYS[2]) < redis.call('ZCARD', KEYS[1]) then
  src = KEYS[2]
  if ARGV[4] ~= '' then task = ARGV[4] end
end
local wanted = {}
for i = 6, #ARGV do wanted[ARGV[i]] = true end
local out = {}
local skipped = 0
local start = 0
local page = 500
while #out < limit do
  local ids = redis.call('ZREVRANGE', src, start, start + page - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local r = redis.call('HMGET', K_invocation(id), 's', 'k')
    if r[1] and wanted[r[1]] and (not task or r[2] == task) then
      if skipped < offset then skipped = skipped + 1
      else
        out[#out + 1] = id
        if #out >= limit then break end
      end
    end
  end
  start = start + page
end
return out`,
  BASE_PRELUDE,
)
