/**
 * The invocation status machine as data (pynenc's table, reference-behaviour §3) plus the pure
 * functions every backend calls inside its atomic section. Backends never re-encode the rules:
 * memory and Mongo call {@link checkTransition}; Redis and PostgreSQL receive {@link STATUS_TABLE}
 * serialized (see {@link statusTableJson}).
 */
export const STATUSES = [
  'registered',
  'concurrency_controlled',
  'concurrency_controlled_final',
  'rerouted',
  'pending',
  'pending_recovery',
  'running',
  'running_recovery',
  'paused',
  'resumed',
  'killed',
  'retry',
  'success',
  'failed',
  'canceled',
] as const

export type InvocationStatus = (typeof STATUSES)[number]

export interface StatusDefinition {
  /** No transition leaves it; the outcome is stored. */
  final: boolean
  /** A runner may claim it (→ PENDING). */
  availableForRun: boolean
  /** Only the owner may move the invocation out of it. */
  requiresOwnership: boolean
  /** Entering it makes the actor the owner. */
  acquiresOwnership: boolean
  /** Entering it clears the owner. */
  releasesOwnership: boolean
  /** Entering it skips the ownership checks (recovery of a dead owner). */
  overridesOwnership: boolean
  /** Statuses it may move to. */
  allowedTargets: readonly InvocationStatus[]
}

const def = (
  flags: Partial<Omit<StatusDefinition, 'allowedTargets'>>,
  allowedTargets: InvocationStatus[],
): StatusDefinition => ({
  final: false,
  availableForRun: false,
  requiresOwnership: false,
  acquiresOwnership: false,
  releasesOwnership: false,
  overridesOwnership: false,
  ...flags,
  allowedTargets,
})

/**
 * The one table. nenc's extensions of pynenc's: PAUSED and RESUMED may also go to
 * RUNNING_RECOVERY (design §3); CANCELED is a final status reached only from the statuses an
 * invocation holds before it runs (`invocation.cancel()`), overriding ownership so that a caller
 * may cancel a PENDING claim — the runner's fenced start is then refused and nothing runs.
 */
export const STATUS_TABLE: Readonly<Record<InvocationStatus, StatusDefinition>> = {
  registered: def({ availableForRun: true, releasesOwnership: true }, [
    'pending',
    'concurrency_controlled',
    'concurrency_controlled_final',
    'canceled',
  ]),
  concurrency_controlled: def({ releasesOwnership: true }, ['rerouted', 'canceled']),
  concurrency_controlled_final: def({ final: true, releasesOwnership: true }, []),
  rerouted: def({ availableForRun: true, releasesOwnership: true }, [
    'pending',
    'concurrency_controlled',
    'canceled',
  ]),
  pending: def({ requiresOwnership: true, acquiresOwnership: true }, [
    'running',
    'killed',
    'rerouted',
    'pending_recovery',
    'canceled',
  ]),
  pending_recovery: def({ releasesOwnership: true, overridesOwnership: true }, ['rerouted']),
  running: def({ requiresOwnership: true }, [
    'paused',
    'killed',
    'retry',
    'success',
    'failed',
    'running_recovery',
  ]),
  running_recovery: def({ releasesOwnership: true, overridesOwnership: true }, ['rerouted']),
  paused: def({ requiresOwnership: true }, ['resumed', 'killed', 'running_recovery']),
  resumed: def({ requiresOwnership: true }, [
    'paused',
    'killed',
    'retry',
    'success',
    'failed',
    'running_recovery',
  ]),
  killed: def({ releasesOwnership: true }, ['rerouted']),
  retry: def({ availableForRun: true, releasesOwnership: true }, ['pending', 'canceled']),
  success: def({ final: true, releasesOwnership: true }, []),
  failed: def({ final: true, releasesOwnership: true }, []),
  canceled: def({ final: true, releasesOwnership: true, overridesOwnership: true }, []),
}

/** The statuses `invocation.cancel()` may leave: the invocation has not started running. */
export const CANCELABLE_STATUSES: readonly InvocationStatus[] = STATUSES.filter((s) =>
  STATUS_TABLE[s].allowedTargets.includes('canceled'),
)

/** The only status a new invocation may be created in. */
export const INITIAL_STATUS: InvocationStatus = 'registered'

/** Statuses that hold a running-concurrency slot: a claimed or executing invocation. */
export const ACTIVE_STATUSES: readonly InvocationStatus[] = ['pending', 'running', 'paused', 'resumed']

export const FINAL_STATUSES: readonly InvocationStatus[] = STATUSES.filter((s) => STATUS_TABLE[s].final)
export const AVAILABLE_FOR_RUN_STATUSES: readonly InvocationStatus[] = STATUSES.filter(
  (s) => STATUS_TABLE[s].availableForRun,
)

export function isStatus(value: unknown): value is InvocationStatus {
  return typeof value === 'string' && value in STATUS_TABLE
}
export const isFinal = (s: InvocationStatus): boolean => STATUS_TABLE[s].final
export const isAvailableForRun = (s: InvocationStatus): boolean => STATUS_TABLE[s].availableForRun
export const isActive = (s: InvocationStatus): boolean => ACTIVE_STATUSES.includes(s)

/** The current status and owner of an invocation, as the orchestrator stores it. */
export interface StatusRecord {
  status: InvocationStatus
  /** Runner id that owns the invocation, or null. */
  owner: string | null
  /** Milliseconds since epoch when this status was entered. */
  timestamp: number
  /**
   * Run attempt: 0 when registered, one more each time the invocation is claimed (enters
   * PENDING), never lower. A runner's writes name the attempt it claimed, so a runner presumed
   * dead whose invocation was claimed again cannot write over the new attempt (see
   * docs/concepts/attempts-and-fencing.md).
   */
  attempt: number
}

export type TransitionRejection =
  | { ok: false; reason: 'invalid_transition'; allowed: readonly InvocationStatus[] }
  | { ok: false; reason: 'ownership'; detail: string }
  | { ok: false; reason: 'stale'; attempt: number }

export type TransitionCheck = { ok: true; next: StatusRecord } | TransitionRejection

/**
 * Validates moving `current` (null for a new invocation) to `to` by `actor` and computes the
 * record to write. Pure: call it inside the backend's atomic section and write `next` only when
 * `ok` is true (reference-behaviour §3.3).
 *
 * Fencing: when `attempt` is given (a runner writing for the attempt it claimed) and the stored
 * attempt differs, the write is `stale` whatever the status — checked first, so a runner that
 * was presumed dead learns exactly why. Entering PENDING (a claim) starts the next attempt.
 */
export function checkTransition(
  current: StatusRecord | null,
  to: InvocationStatus,
  actor: string | null,
  now: number,
  attempt?: number | null,
): TransitionCheck {
  if (current === null) {
    if (to !== INITIAL_STATUS) return { ok: false, reason: 'invalid_transition', allowed: [INITIAL_STATUS] }
    return { ok: true, next: { status: to, owner: null, timestamp: now, attempt: 0 } }
  }
  if (attempt !== undefined && attempt !== null && attempt !== current.attempt)
    return { ok: false, reason: 'stale', attempt }
  const from = STATUS_TABLE[current.status]
  if (!from.allowedTargets.includes(to))
    return { ok: false, reason: 'invalid_transition', allowed: from.allowedTargets }
  const target = STATUS_TABLE[to]
  if (!target.overridesOwnership) {
    if (from.requiresOwnership && current.owner !== null && actor !== current.owner) {
      return { ok: false, reason: 'ownership', detail: `only the owner may leave ${current.status}` }
    }
    if (target.acquiresOwnership && !actor) {
      return { ok: false, reason: 'ownership', detail: `entering ${to} needs a runner to own it` }
    }
  }
  const owner = target.releasesOwnership ? null : target.acquiresOwnership ? actor : current.owner
  const nextAttempt = to === 'pending' ? current.attempt + 1 : current.attempt
  return { ok: true, next: { status: to, owner, timestamp: now, attempt: nextAttempt } }
}

/** True when the ordered list of statuses is a path through the machine starting at REGISTERED. */
export function isValidStatusPath(
  statuses: readonly InvocationStatus[],
): { ok: true } | { ok: false; at: number } {
  if (statuses.length === 0) return { ok: true }
  if (statuses[0] !== INITIAL_STATUS) return { ok: false, at: 0 }
  for (let i = 1; i < statuses.length; i++) {
    const prev = statuses[i - 1]!
    if (!STATUS_TABLE[prev].allowedTargets.includes(statuses[i]!)) return { ok: false, at: i }
  }
  return { ok: true }
}

/** The table as compact JSON, for backends that validate inside the server (Redis Lua, SQL). */
export function statusTableJson(): string {
  return JSON.stringify(STATUS_TABLE)
}
