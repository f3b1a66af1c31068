import {
  ACTIVE_STATUSES,
  AVAILABLE_FOR_RUN_STATUSES,
  CorruptDataError,
  checkTransition,
  FINAL_STATUSES,
  type InvocationState,
  type InvocationStatus,
  isStatus,
  STATUSES,
  type TransitionOutcome,
} from '@nenc/core'
import { BACKEND } from './pg-errors.js'

/**
 * How the SQL statements learn the status machine without re-encoding it: this module asks
 * core's `checkTransition` about every (target, actor present?, current status, owner class)
 * and passes the accepted combinations to SQL as two parallel arrays. SQL builds the same key
 * for each row — `to|+|from|c` with `+`/`-` for actor present/absent and `c` the owner class
 * (`n` no owner, `a` owner is the actor, `o` another owner) — and writes only when the key is
 * listed, with the owner the mode says (`n` none, `a` the actor, `k` keep the current one).
 */
export interface TransitionRules {
  keys: string[]
  modes: string[]
}

const ACTOR = '\u0000actor'
const OTHER = '\u0000other'

function buildRules(): TransitionRules {
  const keys: string[] = []
  const modes: string[] = []
  for (const to of STATUSES) {
    for (const actorPresent of [true, false]) {
      const actor = actorPresent ? ACTOR : null
      for (const from of STATUSES) {
        for (const ownerClass of ['n', 'a', 'o'] as const) {
          if (ownerClass === 'a' && !actorPresent) continue // owner = actor = none is class n
          const owner = ownerClass === 'n' ? null : ownerClass === 'a' ? ACTOR : OTHER
          const check = checkTransition({ status: from, owner, timestamp: 0, attempt: 0 }, to, actor, 0)
          if (!check.ok) continue
          const next = check.next.owner
          keys.push(`${to}|${actorPresent ? '+' : '-'}|${from}|${ownerClass}`)
          modes.push(next === null ? 'n' : next === owner ? 'k' : 'a')
        }
      }
    }
  }
  return { keys, modes }
}

/** Every accepted transition, computed once from core's table. */
export const RULES: Readonly<TransitionRules> = buildRules()

/** The targets a claim may write: PENDING, the two control outcomes, and RUNNING with `start`. */
export const CLAIM_TARGETS: readonly InvocationStatus[] = [
  'pending',
  'concurrency_controlled',
  'concurrency_controlled_final',
  'running',
]

const rulesByTargets = new Map<string, Readonly<TransitionRules>>()

/**
 * The accepted transitions into `targets` only: what a statement writing those targets looks up
 * (SQL's `array_position` scans the keys row by row, so a batch of SUCCESS ends searches a
 * dozen keys instead of all of them). Cached per target set.
 */
export function rulesFor(targets: Iterable<InvocationStatus>): Readonly<TransitionRules> {
  const wanted = [...new Set(targets)].sort()
  const cacheKey = wanted.join(',')
  let rules = rulesByTargets.get(cacheKey)
  if (!rules) {
    const keys: string[] = []
    const modes: string[] = []
    RULES.keys.forEach((k, i) => {
      if (wanted.includes(k.slice(0, k.indexOf('|')) as InvocationStatus)) {
        keys.push(k)
        modes.push(RULES.modes[i]!)
      }
    })
    rules = { keys, modes }
    rulesByTargets.set(cacheKey, rules)
  }
  return rules
}

/** Core's status sets as SQL array parameters. */
export const STATUS_SETS = {
  available: [...AVAILABLE_FOR_RUN_STATUSES],
  active: [...ACTIVE_STATUSES],
  final: [...FINAL_STATUSES],
} as const

/** A stored status, checked: anything else is corrupt data, never a crash. */
export function storedStatus(value: unknown, where: string): InvocationStatus {
  if (isStatus(value)) return value
  throw new CorruptDataError(BACKEND, where, `"${String(value)}" is not an invocation status`)
}

/** A stored bigint/integer column (pg returns int8 as text), checked. */
export function storedNumber(value: unknown, where: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN
  if (Number.isFinite(n)) return n
  throw new CorruptDataError(BACKEND, where, `"${String(value)}" is not a number`)
}

/**
 * The outcome of a transition SQL refused: core's `checkTransition` on the current record (with
 * the request's attempt) says why — `stale` first, then reason, allowed targets, ownership
 * detail. Returns null if core would accept it, which only happens if the record changed between
 * the refusal and this read (a lost race).
 */
export function rejection(
  current: InvocationState,
  to: InvocationStatus,
  actor: string | null,
  attempt?: number | null,
): TransitionOutcome | null {
  const check = checkTransition(current, to, actor, Date.now(), attempt)
  if (check.ok) return null
  switch (check.reason) {
    case 'stale':
      return { ok: false, reason: 'stale', current, attempt: check.attempt }
    case 'invalid_transition':
      return { ok: false, reason: 'invalid_transition', current, allowed: check.allowed }
    default:
      return { ok: false, reason: 'ownership', current, detail: check.detail }
  }
}
