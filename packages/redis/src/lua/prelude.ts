import { ACTIVE_STATUSES, statusTableJson } from '@nenc/core'
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
local TR_OK, TR_NOT_FOUND, TR_INVALID, TR_OWNERSHIP = ${TRANSITION_CODE.ok}, ${TRANSITION_CODE.notFound}, ${TRANSITION_CODE.invalid}, ${TRANSITION_CODE.ownership}
local CL_CLAIMED, CL_CONTROLLED, CL_CONTROLLED_FINAL, CL_DEFERRED, CL_SKIPPED = ${CLAIM_CODE.claimed}, ${CLAIM_CODE.controlled}, ${CLAIM_CODE.controlledFinal}, ${CLAIM_CODE.deferred}, ${CLAIM_CODE.skipped}
local S = {}
local FINALS = {}

-- Reads one invocation into S: its entry, false when unknown, or nil plus an error reply when
-- the key holds something nenc did not write (checked before the script writes anything).
local function load(id)
  local e = S[id]
  if e ~= nil then return e end
  local key = K_invocation(id)
  local r = redis.pcall('HMGET', key, 's', 'o', 't', 'r', 'k', 'rk', 'nk', 'rr', 'w', 'ca')
  if r.err then return nil, '${CORRUPT_REPLY} ' .. key end
  if not r[1] then
    S[id] = false
    return false
  end
  local retries = tonumber(r[4])
  if not STATUS[r[1]] or not retries then return nil, '${CORRUPT_REPLY} ' .. key end
  e = { s = r[1], o = r[2] or '', t = r[3] or '0', r = retries, k = r[5] or '', rk = r[6] or '',
        nk = r[7] or '', rr = r[8], w = r[9], ca = r[10] }
  S[id] = e
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

-- Validates (core's table) and applies one status change of a loaded entry: status, owner,
-- time, retries, history entry, registration / running-key / recovery indexes, edges and the
-- final notification. Returns a TR_* code; nothing is written unless it is TR_OK.
local function apply(id, e, to, actor, now)
  local from = e.s
  if not TO[from .. '>' .. to] then return TR_INVALID end
  if not OV[to] then
    if RO[from] and e.o ~= '' and actor ~= e.o then return TR_OWNERSHIP end
    if AO[to] and actor == '' then return TR_OWNERSHIP end
  end
  local owner = e.o
  if REL[to] then owner = '' elseif AO[to] then owner = actor end
  local key = K_invocation(id)
  if to == 'retry' then
    e.r = e.r + 1
    redis.call('HSET', key, 's', to, 'o', owner, 't', now, 'r', e.r)
  else
    redis.call('HSET', key, 's', to, 'o', owner, 't', now)
  end
  redis.call('RPUSH', K_history(id), to .. US .. owner .. US .. actor .. US .. now)
  local prev = from
  e.s, e.o, e.t = to, owner, now
  if prev == 'registered' and e.rk ~= '' then redis.call('SREM', K_registered(e.rk), id) end
  -- Active = holds a running slot (PENDING … RESUMED): running-key sets and the active zset,
  -- scored by the time the invocation was claimed (recovery of stale PENDING / dead owners).
  if ACTIVE[to] and not ACTIVE[prev] then
    redis.call('ZADD', KEYS[1], now, id)
    if e.nk ~= '' then redis.call('SADD', K_running(e.nk), id) end
  elseif ACTIVE[prev] and not ACTIVE[to] then
    redis.call('ZREM', KEYS[1], id)
    if e.nk ~= '' then redis.call('SREM', K_running(e.nk), id) end
  end
  if FINAL[to] then
    redis.call('ZREM', KEYS[3], id)
    release(id, e)
    FINALS[#FINALS + 1] = id
  end
  return TR_OK
end

local function publish_finals(channel)
  if #FINALS > 0 then redis.call('PUBLISH', channel, cjson.encode(FINALS)) end
end`
}
