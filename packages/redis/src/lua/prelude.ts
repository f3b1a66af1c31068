import { ACTIVE_STATUSES, MAX_INLINE_OUTCOME_CHARS, statusTableJson } from '@nenc/core'
import { CLAIM_CODE, CORRUPT_REPLY, TRANSITION_CODE } from '../errors-from-code.js'
import { luaKeyFunctions } from '../keys.js'

const luaName = (s: string): string => {
  if (!/^[a-z_]+$/.test(s)) throw new Error(`status name ${JSON.stringify(s)} cannot be embedded in Lua`)
  return s
}

export const luaSet = (names: readonly string[]): string =>
  `{ ${names.map((n) => `${luaName(n)} = true`).join(', ')} }`

/**
 * Core's status table as flat Lua sets, generated at load time from `statusTableJson()`: the
 * rules are core's, never re-encoded by hand. Flat sets cost a quarter of nested tables to build,
 * and a script builds them on every call. `STATUS[s]` (known status), `FINAL`, `AVAIL` (available
 * for run), `RO` (requires ownership), `AO` (acquires), `REL` (releases), `OV` (overrides
 * ownership), and `TO['from>to']` for every allowed transition.
 */
export function luaStatusTable(): string {
  const table = JSON.parse(statusTableJson()) as Record<
    string,
    {
      final: boolean
      availableForRun: boolean
      requiresOwnership: boolean
      acquiresOwnership: boolean
      releasesOwnership: boolean
      overridesOwnership: boolean
      allowedTargets: string[]
    }
  >
  const entries = Object.entries(table)
  const where = (flag: keyof (typeof table)[string]) =>
    luaSet(entries.filter(([, d]) => d[flag]).map(([n]) => n))
  const edges = entries.flatMap(([from, d]) =>
    d.allowedTargets.map((to) => `['${luaName(from)}>${luaName(to)}'] = true`),
  )
  return [
    `local STATUS = ${luaSet(entries.map(([n]) => n))}`,
    `local FINAL = ${where('final')}`,
    `local AVAIL = ${where('availableForRun')}`,
    `local RO = ${where('requiresOwnership')}`,
    `local AO = ${where('acquiresOwnership')}`,
    `local REL = ${where('releasesOwnership')}`,
    `local OV = ${where('overridesOwnership')}`,
    `local TO = { ${edges.join(', ')} }`,
  ].join('\n')
}

/** Shared head of every script: prefix, key helpers, separator and server time. */
export const BASE_PRELUDE = `local P = ARGV[1]
local US = '\\031'
${luaKeyFunctions()}
-- Server time in ms as a string: one clock for every client, whatever their skew.
local function now_ms()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(t[2] / 1000))
end
-- Error reply (NENC_CORRUPT <key>) when a key a script is about to write holds another type
-- of value than t (absent is fine), else nil. Scripts check every key before their first
-- write, so foreign data never leaves a change half applied.
local function bad_type(key, t)
  local ty = redis.call('TYPE', key).ok
  if ty ~= 'none' and ty ~= t then return '${CORRUPT_REPLY} ' .. key end
  return nil
end
-- bad_type over the script's KEYS: types[i] is the expected type of KEYS[i] (types beyond
-- #KEYS are for optional keys the call left out).
local function bad_keys(types)
  for i = 1, math.min(#types, #KEYS) do
    local bad = bad_type(KEYS[i], types[i])
    if bad then return bad end
  end
  return nil
end
-- Member of the waited zset: zero-padded creation time then id, so equal waiter counts rank oldest first.
local function waited_member(ca, id)
  ca = ca or '0'
  return string.rep('0', 15 - #ca) .. ca .. ':' .. id
end`

/**
 * The orchestrator prelude: status table, codes, the invocation cache `S` and {@link apply}, the
 * one place a status change is written together with its history entry and every index.
 * Scripts using it declare KEYS[1] = active zset, KEYS[2] = waited zset, KEYS[3] = live zset.
 */
export function orchestratorPrelude(): string {
  return `${BASE_PRELUDE}
${luaStatusTable()}
local ACTIVE = ${luaSet(ACTIVE_STATUSES)}
local TR_OK, TR_NOT_FOUND, TR_INVALID, TR_OWNERSHIP, TR_STALE = ${TRANSITION_CODE.ok}, ${TRANSITION_CODE.notFound}, ${TRANSITION_CODE.invalid}, ${TRANSITION_CODE.ownership}, ${TRANSITION_CODE.stale}
local CL_CLAIMED, CL_CONTROLLED, CL_CONTROLLED_FINAL, CL_DEFERRED, CL_SKIPPED = ${CLAIM_CODE.claimed}, ${CLAIM_CODE.controlled}, ${CLAIM_CODE.controlledFinal}, ${CLAIM_CODE.deferred}, ${CLAIM_CODE.skipped}
local S = {}
local FINALS = {}
-- id → its index in FINALS: a script that wrote the winning outcome puts it beside the id.
local FINAL_AT = {}
-- Token written with every change of this call ('' = none; set by transition-invocations).
local TOKEN = ''

-- Reads one invocation into S: its entry, false when unknown, or nil plus an error reply when
-- the key holds something nenc did not write (checked before the script writes anything).
local function load(id)
  local e = S[id]
  if e ~= nil then return e end
  local key = K_invocation(id)
  local r = redis.pcall('HMGET', key, 's', 'o', 't', 'r', 'k', 'rk', 'nk', 'rr', 'w', 'ca', 'q', 'a')
  if r.err then return nil, '${CORRUPT_REPLY} ' .. key end
  if not r[1] then
    S[id] = false
    return false
  end
  local retries, attempt = tonumber(r[4]), tonumber(r[12] or '0')
  if not STATUS[r[1]] or not retries or not attempt then return nil, '${CORRUPT_REPLY} ' .. key end
  e = { key = key, s = r[1], o = r[2] or '', t = r[3] or '0', r = retries, k = r[5] or '',
        rk = r[6] or '', nk = r[7] or '', rr = r[8], w = r[9], ca = r[10], q = r[11], a = attempt }
  S[id] = e
  return e
end

-- Error reply when a key apply() / release() may write for a loaded entry holds foreign data:
-- history list, registration and running-key sets, the running key's parked list,
-- blocking-control edge sets.
local function bad_writes(id, e)
  if not e then return nil end
  local bad = bad_type(K_history(id), 'list')
  if not bad and e.rk ~= '' then bad = bad_type(K_registered(e.rk), 'set') end
  if not bad and e.nk ~= '' then bad = bad_type(K_running(e.nk), 'set') or bad_type(K_parked(e.nk), 'list') end
  if not bad and e.w == '1' then
    bad = bad_type(K_waitedBy(id), 'set') or bad_type(K_waitingFor(id), 'set')
    if not bad then
      for _, w in ipairs(redis.call('SMEMBERS', K_waitedBy(id))) do
        bad = bad_type(K_waitingFor(w), 'set')
        if bad then return bad end
      end
      for _, y in ipairs(redis.call('SMEMBERS', K_waitingFor(id))) do
        bad = bad_type(K_waitedBy(y), 'set')
        if bad then return bad end
      end
    end
  end
  return bad
end

-- load() then bad_writes(): the entry, or nil plus an error reply.
local function load_writable(id)
  local e, bad = load(id)
  if bad then return nil, bad end
  bad = bad_writes(id, e)
  if bad then return nil, bad end
  return e
end

-- Removes the blocking-control edges of a final invocation (only when it ever had some).
local function release(id, e)
  if e.w ~= '1' then return end
  local wb = K_waitedBy(id)
  local waiters = redis.call('SMEMBERS', wb)
  if #waiters > 0 then
    for _, w in ipairs(waiters) do redis.call('SREM', K_waitingFor(w), id) end
    redis.call('DEL', wb)
    redis.call('ZREM', KEYS[2], waited_member(e.ca, id))
  end
  local wf = K_waitingFor(id)
  local waited = redis.call('SMEMBERS', wf)
  if #waited > 0 then
    for _, y in ipairs(waited) do
      redis.call('SREM', K_waitedBy(y), id)
      local m = waited_member(redis.call('HGET', K_invocation(y), 'ca'), y)
      if tonumber(redis.call('ZINCRBY', KEYS[2], 1, m)) >= 0 then redis.call('ZREM', KEYS[2], m) end
    end
    redis.call('DEL', wf)
  end
end

-- Takes the oldest invocation parked on a freed running key that is still CONCURRENCY_CONTROLLED
-- off the key's list; ids met on the way that left that status otherwise are dropped, so the
-- list never keeps them. Returns the id, or nil when none waits.
local function unpark(nk)
  local list = K_parked(nk)
  while true do
    local id = redis.call('LPOP', list)
    if not id then return nil end
    if redis.pcall('HGET', K_invocation(id), 's') == 'concurrency_controlled' then return id end
  end
end

-- Validates (core's table) and applies one status change of a loaded entry: status, owner,
-- time, retries, attempt (+1 entering PENDING), history entry, registration / running-key /
-- recovery indexes, edges and the final notification. \`attempt\` ('' or nil = not fenced) is
-- the attempt the actor claimed: any other stored attempt is TR_STALE, checked first. Returns a
-- TR_* code; nothing is written unless it is TR_OK. Leaving the active statuses frees the
-- running key when no other active invocation holds it: the oldest invocation parked on it is
-- unparked, returned second (nil = none) for the caller to report (core wakes it).
local function apply(id, e, to, actor, now, attempt)
  local from = e.s
  if attempt and attempt ~= '' and tonumber(attempt) ~= e.a then return TR_STALE end
  if not TO[from .. '>' .. to] then return TR_INVALID end
  if not OV[to] then
    if RO[from] and e.o ~= '' and actor ~= e.o then return TR_OWNERSHIP end
    if AO[to] and actor == '' then return TR_OWNERSHIP end
  end
  local owner = e.o
  if REL[to] then owner = '' elseif AO[to] then owner = actor end
  local key = e.key
  -- 'q' = the token of the call that wrote this change, so a call whose answer was lost with
  -- the connection can be replayed without applying it twice (see transition-invocations).
  if to == 'retry' then
    e.r = e.r + 1
    redis.call('HSET', key, 's', to, 'o', owner, 't', now, 'r', e.r, 'q', TOKEN)
  elseif to == 'pending' then
    e.a = e.a + 1
    redis.call('HSET', key, 's', to, 'o', owner, 't', now, 'a', e.a, 'q', TOKEN)
  else
    redis.call('HSET', key, 's', to, 'o', owner, 't', now, 'q', TOKEN)
  end
  e.q = TOKEN
  redis.call('RPUSH', K_history(id), to .. US .. owner .. US .. actor .. US .. now .. US .. e.a)
  local prev, released = from, nil
  e.s, e.o, e.t = to, owner, now
  if prev == 'registered' and e.rk ~= '' then redis.call('SREM', K_registered(e.rk), id) end
  -- Active = holds a running slot (PENDING … RESUMED): running-key sets and the active zset,
  -- scored by the time the invocation was claimed (recovery of stale PENDING / dead owners).
  if ACTIVE[to] and not ACTIVE[prev] then
    redis.call('ZADD', KEYS[1], now, id)
    if e.nk ~= '' then redis.call('SADD', K_running(e.nk), id) end
  elseif ACTIVE[prev] and not ACTIVE[to] then
    redis.call('ZREM', KEYS[1], id)
    if e.nk ~= '' then
      local run = K_running(e.nk)
      redis.call('SREM', run, id)
      if redis.call('SCARD', run) == 0 then released = unpark(e.nk) end
    end
  end
  if FINAL[to] then
    redis.call('ZREM', KEYS[3], id)
    release(id, e)
    FINALS[#FINALS + 1] = id
    FINAL_AT[id] = #FINALS
  end
  return TR_OK, released
end

-- Publishes the ids that became final; an entry is [id, outcome] where this script stored that
-- outcome (small ones only), so a waiter needs no read.
local function publish_finals(channel)
  if #FINALS > 0 then redis.call('PUBLISH', channel, cjson.encode(FINALS)) end
end

local INLINE_OUTCOME_MAX = ${MAX_INLINE_OUTCOME_CHARS}
-- The outcome this script just stored for a final id rides along with its notification.
local function final_outcome(id, raw)
  local at = FINAL_AT[id]
  if at and #raw <= INLINE_OUTCOME_MAX then FINALS[at] = { id, raw } end
end

-- Claims one loaded entry (false/nil = unknown or unreadable) for a runner: skip unless
-- available for run; running key held by an active invocation → a controlled status (or defer
-- when the status cannot enter one; CONCURRENCY_CONTROLLED also parks it at the tail of the
-- key's parked list, where the transition freeing the key finds it); else PENDING owned by the runner and, with start, then
-- RUNNING for it fenced by the new attempt (refused: CL_SKIPPED, left PENDING for recovery).
-- Returns a CL_* code.
local function claim_one(id, e, runner, now, start)
  if not e or not AVAIL[e.s] then return CL_SKIPPED end
  if e.nk ~= '' and redis.call('SCARD', K_running(e.nk)) > 0 then
    if e.rr ~= '1' and TO[e.s .. '>concurrency_controlled_final'] then
      apply(id, e, 'concurrency_controlled_final', runner, now)
      return CL_CONTROLLED_FINAL
    elseif TO[e.s .. '>concurrency_controlled'] then
      apply(id, e, 'concurrency_controlled', runner, now)
      redis.call('RPUSH', K_parked(e.nk), id)
      return CL_CONTROLLED
    end
    return CL_DEFERRED
  end
  if apply(id, e, 'pending', runner, now) ~= TR_OK then return CL_SKIPPED end
  if start and apply(id, e, 'running', runner, now, e.a) ~= TR_OK then return CL_SKIPPED end
  return CL_CLAIMED
end

-- Appends one claim to a reply: code, retries, task id, attempt, record (false unless claimed;
-- the record slot is noted in slots / ids for fill_records when slots is given).
local function push_claim(out, id, e, code, slots, ids)
  local n = #out
  out[n + 1] = code
  if code == CL_CLAIMED then
    out[n + 2], out[n + 3], out[n + 4], out[n + 5] = e.r, e.k, e.a, false
    if slots then
      slots[#slots + 1] = n + 5
      ids[#ids + 1] = id
    end
  else
    out[n + 2], out[n + 3], out[n + 4], out[n + 5] = false, false, false, false
  end
end

-- Fills the state backend's records of claimed ids into out[slots[i]] with one MGET (a
-- foreign non-string value reads as nil: the state backend's own read then reports it).
local function fill_records(out, slots, ids)
  if #ids == 0 then return end
  local keys = {}
  for i, id in ipairs(ids) do keys[i] = K_record(id) end
  local values = redis.call('MGET', unpack(keys))
  for i, slot in ipairs(slots) do out[slot] = values[i] end
end`
}

/**
 * Queue helpers shared by the retrieve script and the transition script's claim of the next
 * ids: `move_due(queue, delayed, now)` moves due delayed ids to the queue's tail and returns the
 * ms until the next one is due (-1 = none).
 */
export const QUEUE_LUA = `local function move_due(queue, delayed, now)
  local first = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
  if not first[1] then return -1 end
  while first[1] and tonumber(first[2]) <= now do
    local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)
    local ids = {}
    for i, m in ipairs(due) do ids[i] = string.sub(m, string.find(m, ':', 1, true) + 1) end
    redis.call('RPUSH', queue, unpack(ids))
    redis.call('ZREM', delayed, unpack(due))
    first = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
  end
  if first[1] then return tonumber(first[2]) - now end
  return -1
end`
