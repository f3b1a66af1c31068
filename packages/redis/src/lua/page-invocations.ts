import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/**
 * Where a newest-first scan of a creation zset starts: the index after the keyset position, and
 * not before the first entry created before the upper bound. A cursor entry still in the zset is
 * found by rank (O(log n), however many ids share its millisecond — a batch registered in one
 * script call does); a cursor entry gone from it (a live id turned final) by score, skipping the
 * ids of its millisecond not below it.
 */
const START_INDEX = `local function start_index(src, before, cscore, cid)
  local start = 0
  if before ~= '' then start = redis.call('ZCOUNT', src, before, '+inf') end
  if cscore == '' then return start end
  local s = redis.call('ZSCORE', src, cid)
  local at
  if s and tonumber(s) == tonumber(cscore) then
    at = redis.call('ZREVRANK', src, cid) + 1
  else
    at = redis.call('ZCOUNT', src, '(' .. cscore, '+inf')
    while true do
      local r = redis.call('ZREVRANGE', src, at, at + 199, 'WITHSCORES')
      local stop = #r == 0
      for i = 1, #r, 2 do
        if tonumber(r[i + 1]) == tonumber(cscore) and r[i] >= cid then at = at + 1 else stop = true; break end
      end
      if stop then break end
    end
  end
  if at > start then start = at end
  return start
end`

/**
 * One keyset page of ids, newest first (Orchestrator.pageInvocations). Reads only the creation
 * zsets the routing scripts already keep (all ids, per task, live ids): listing adds no command
 * to routing, claims or finishes.
 */
export const pageInvocations = new LuaScript(
  'page-invocations',
  `-- page-invocations: ids newest first (equal times: greater id first) created in
-- [from, before), after a keyset position, keeping only the given statuses. Scans at most
-- ARGV[9] candidates; stops early with the position of the last one scanned (the next cursor).
-- KEYS[1] all-ids or task zset, KEYS[2] live ids zset
-- ARGV[1] app prefix, ARGV[2] limit, ARGV[3] task id ('' = any), ARGV[4] '1' when every status
--   is non-final, ARGV[5] before (ms, '' = none), ARGV[6] from (ms, '' = none), ARGV[7] cursor
--   score ('' = first page), ARGV[8] cursor id, ARGV[9] scan budget, ARGV[10..] statuses (none = any)
-- Returns: {next score ('' = ended), next id, ids...}
local limit = tonumber(ARGV[2])
local src = KEYS[1]
local task = false
local filtered = #ARGV >= 10
if filtered and ARGV[4] == '1' and redis.call('ZCARD', KEYS[2]) < redis.call('ZCARD', KEYS[1]) then
  src = KEYS[2]
  if ARGV[3] ~= '' then task = ARGV[3] end
end
local wanted = {}
for i = 10, #ARGV do wanted[ARGV[i]] = true end
local from = false
if ARGV[6] ~= '' then from = tonumber(ARGV[6]) end
local budget = tonumber(ARGV[9])
local out = {'', ''}
local scores = {}
local scanned = 0
local lastScore, lastId = '', ''
local at = start_index(src, ARGV[5], ARGV[7], ARGV[8])
local chunk = 200
while true do
  local rows = redis.call('ZREVRANGE', src, at, at + chunk - 1, 'WITHSCORES')
  if #rows == 0 then return out end
  for i = 1, #rows, 2 do
    local id, score = rows[i], rows[i + 1]
    if from and tonumber(score) < from then return out end
    if scanned >= budget then
      out[1], out[2] = lastScore, lastId
      return out
    end
    scanned = scanned + 1
    local keep = true
    if filtered or task then
      local r = redis.call('HMGET', K_invocation(id), 's', 'k')
      keep = r[1] and (not filtered or wanted[r[1]]) and (not task or r[2] == task)
    end
    if keep then
      if #out - 2 == limit then
        -- One more match: the page is full and another follows.
        out[1], out[2] = scores[#out], out[#out]
        return out
      end
      out[#out + 1] = id
      scores[#out] = score
    end
    lastScore, lastId = score, id
  end
  at = at + chunk
end`,
  `${BASE_PRELUDE}\n${START_INDEX}`,
)

/**
 * Counts per (task, status) over one slice of a creation zset (Orchestrator.countInvocations):
 * at most ARGV[5] ids per call, so counting a large range never blocks the server for long.
 */
export const countInvocations = new LuaScript(
  'count-invocations',
  `-- count-invocations: counts of (task id, status) for up to ARGV[5] ids of KEYS[1] created in
-- [from, before), newest first, after the keyset position (ARGV[6] score, ARGV[7] id).
-- KEYS[1] all-ids or task zset
-- ARGV[1] app prefix, ARGV[2] before (ms, '' = none), ARGV[3] from (ms, '' = none),
--   ARGV[4] unused, ARGV[5] slice size, ARGV[6] cursor score ('' = start), ARGV[7] cursor id
-- Returns: {next score ('' = ended), next id, task, status, count, ...}
local slice = tonumber(ARGV[5])
local from = false
if ARGV[3] ~= '' then from = tonumber(ARGV[3]) end
local at = start_index(KEYS[1], ARGV[2], ARGV[6], ARGV[7])
local rows = redis.call('ZREVRANGE', KEYS[1], at, at + slice - 1, 'WITHSCORES')
local counts = {}
local order = {}
local out = {'', ''}
local ended = #rows < 2 * slice
for i = 1, #rows, 2 do
  local id, score = rows[i], rows[i + 1]
  if from and tonumber(score) < from then ended = true; break end
  local r = redis.call('HMGET', K_invocation(id), 's', 'k')
  if r[1] then
    local key = r[2] .. '\\0' .. r[1]
    if not counts[key] then
      counts[key] = 0
      order[#order + 1] = {r[2], r[1], key}
    end
    counts[key] = counts[key] + 1
  end
  out[1], out[2] = score, id
end
if ended then out[1], out[2] = '', '' end
for _, e in ipairs(order) do
  out[#out + 1] = e[1]
  out[#out + 1] = e[2]
  out[#out + 1] = counts[e[3]]
end
return out`,
  `${BASE_PRELUDE}\n${START_INDEX}`,
)
