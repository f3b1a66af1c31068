import {
  BackendError,
  BackendUnavailableError,
  type ClaimOutcome,
  CorruptDataError,
  checkTransition,
  type InvocationState,
  type InvocationStatus,
  NencError,
  STATUS_TABLE,
  type TransitionOutcome,
} from '@nenc/core'

/**
 * The return codes of the Lua scripts and the one place that turns them — and every ioredis
 * error — into core's outcomes and typed errors. The scripts receive these numbers from the
 * prelude generator, so Lua and TypeScript cannot drift apart.
 */
export const TRANSITION_CODE = { ok: 0, notFound: 1, invalid: 2, ownership: 3, stale: 4 } as const

export const CLAIM_CODE = {
  claimed: 0,
  controlled: 1,
  controlledFinal: 2,
  deferred: 3,
  skipped: 4,
} as const

/** Error reply a script raises (before writing anything) when a nenc key holds foreign data. */
export const CORRUPT_REPLY = 'NENC_CORRUPT'

const BACKEND = 'redis'

/**
 * Maps a transition script code to core's outcome; `current` is the stored state the script
 * returned, `attempt` the attempt the request named (for `stale`), `released` the id the change
 * unparked from the running key it freed (accepted changes only; null = none).
 */
export function transitionOutcomeFromCode(
  code: number,
  current: InvocationState | null,
  to: InvocationStatus,
  actor: string | null,
  attempt?: number | null,
  released?: string | null,
): TransitionOutcome {
  if (code === TRANSITION_CODE.ok)
    return released ? { ok: true, state: current!, released: [released] } : { ok: true, state: current! }
  if (code === TRANSITION_CODE.notFound || current === null) return { ok: false, reason: 'not_found' }
  if (code === TRANSITION_CODE.stale) return { ok: false, reason: 'stale', current, attempt: attempt ?? -1 }
  if (code === TRANSITION_CODE.invalid)
    return {
      ok: false,
      reason: 'invalid_transition',
      current,
      allowed: STATUS_TABLE[current.status].allowedTargets,
    }
  // Core's own check words the detail, so messages match every other backend.
  const check = checkTransition(current, to, actor, current.timestamp)
  const detail = check.ok || check.reason !== 'ownership' ? 'ownership check failed' : check.detail
  return { ok: false, reason: 'ownership', current, detail }
}

/** Maps a claim script code to core's outcome. */
export function claimOutcomeFromCode(id: string, code: number, state: InvocationState | null): ClaimOutcome {
  switch (code) {
    case CLAIM_CODE.claimed:
      return { id, outcome: 'claimed', state: state! }
    case CLAIM_CODE.controlled:
      return { id, outcome: 'controlled' }
    case CLAIM_CODE.controlledFinal:
      return { id, outcome: 'controlled_final' }
    case CLAIM_CODE.deferred:
      return { id, outcome: 'deferred' }
    case CLAIM_CODE.skipped:
      return { id, outcome: 'skipped' }
    default:
      throw new BackendError(BACKEND, `the claim script returned unknown code ${code} for ${id}`)
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])
const UNAVAILABLE_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Command timed out',
  'Reached the max retries per request limit',
  'connect ETIMEDOUT',
  'Connection lost',
  // ioredis rejects commands in flight when the socket closes under them (server stopped).
  'Command aborted due to connection close',
]
/** Server replies that mean "not serving right now" rather than "your command is wrong". */
const UNAVAILABLE_REPLIES = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY |NOREPLICAS)/

/** True when the error means the server cannot be reached (or is not serving yet). */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true
  if (err.name === 'MaxRetriesPerRequestError') return true
  if (UNAVAILABLE_MESSAGES.some((m) => err.message.includes(m))) return true
  return UNAVAILABLE_REPLIES.test(err.message)
}

/**
 * Translates an error from ioredis (or a script) at the backend boundary: unreachable server or
 * timeout → `BackendUnavailableError`; foreign data under a nenc key (`WRONGTYPE`, or a script's
 * `NENC_CORRUPT <key>` reply) → `CorruptDataError`; any other failed command → `BackendError`.
 * nenc errors pass through unchanged.
 */
export function translateError(err: unknown, action: string, server: string): NencError {
  if (err instanceof NencError) return err
  const message = err instanceof Error ? err.message : String(err)
  if (message.startsWith(CORRUPT_REPLY)) {
    const location = message.slice(CORRUPT_REPLY.length + 1).replace(/ script: .*$/s, '')
    return new CorruptDataError(BACKEND, location, `${action} found a value nenc did not write`, {
      cause: err,
    })
  }
  if (message.startsWith('WRONGTYPE'))
    return new CorruptDataError(
      BACKEND,
      `a key read by ${action}`,
      `${action} met a key holding the wrong kind of value (foreign or corrupted data); purge the app or remove the key`,
      { cause: err },
    )
  if (isUnavailable(err))
    return new BackendUnavailableError(
      BACKEND,
      `${action} could not reach Redis (${message}); check that the server at ${server} is running. Calls fail fast while it is down and work again once it is back.`,
      { cause: err },
    )
  return new BackendError(BACKEND, `${action} failed: ${message}`, { cause: err })
}

/** A value read back from Redis that nenc did not write. */
export function corrupt(location: string, reason: string): CorruptDataError {
  return new CorruptDataError(BACKEND, location, reason)
}
