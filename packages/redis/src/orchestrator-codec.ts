import { type ClaimOutcome, type HistoryEntry, type InvocationState, isStatus } from '@nenc/core'
import { claimOutcomeFromCode, corrupt } from './errors-from-code.js'

/** Separator of the compact history entries (`status US owner US actor US time US attempt`). */
export const HISTORY_SEPARATOR = '\u001f'

type Value = string | number | null
/** A flat script reply. */
export type Reply = Value[]

/** Fields per state in a script reply (see {@link stateAt}). */
export const STATE_FIELDS = 6

/**
 * Reads the state fields `status, owner, time, retries, task id, attempt` the scripts return at
 * `at`. The scripts validated the status already; null when the id is unknown.
 */
export function stateAt(reply: readonly Value[], at: number, id: string): InvocationState | null {
  const status = reply[at]
  if (status === null || status === undefined) return null
  if (!isStatus(status)) throw corrupt(`the orchestrator record of ${id}`, `unknown status ${String(status)}`)
  const owner = reply[at + 1]
  return {
    id,
    taskId: String(reply[at + 4] ?? ''),
    status,
    owner: owner === null || owner === '' ? null : String(owner),
    timestamp: Number(reply[at + 2]),
    retries: Number(reply[at + 3]),
    attempt: Number(reply[at + 5] ?? 0),
  }
}

/** The id a transition reply reports unparked at `at` (see the transition script), or null. */
export function releasedAt(reply: readonly Value[], at: number): string | null {
  const id = reply[at]
  return typeof id === 'string' && id !== '' ? id : null
}

/** Parses one history list, oldest first; an entry nenc did not write is `CorruptDataError`. */
export function parseHistory(entries: readonly string[], location: string): HistoryEntry[] {
  return entries.map((raw, i) => {
    const parts = raw.split(HISTORY_SEPARATOR)
    const timestamp = Number(parts[3])
    // Entries written before attempts existed have four fields: attempt 0.
    const attempt = parts.length === 4 ? 0 : Number(parts[4])
    if (
      (parts.length !== 4 && parts.length !== 5) ||
      !isStatus(parts[0]) ||
      !Number.isFinite(timestamp) ||
      !Number.isInteger(attempt)
    )
      throw corrupt(location, `history entry ${i} is not a nenc history entry`)
    return {
      status: parts[0],
      owner: parts[1] || null,
      actor: parts[2] || null,
      timestamp,
      attempt,
    }
  })
}

/** A claim read from a script reply, with the record the script returned for the state backend. */
export interface ClaimRead {
  outcome: ClaimOutcome
  record: string | null
}

/** Fields per claim in a script reply (see {@link claimAt}). */
export const CLAIM_FIELDS = 5

/**
 * One claim of a script reply at `at`: code, retries, task id, attempt, record. A claimed one is
 * `status` (PENDING, or RUNNING when the script started what it claimed) owned by the runner.
 */
export function claimAt(
  reply: Reply,
  at: number,
  id: string,
  now: number,
  runnerId: string,
  status: 'pending' | 'running' = 'pending',
): ClaimRead {
  const taskId = reply[at + 2]
  const state: InvocationState | null =
    taskId === null || taskId === undefined
      ? null
      : {
          id,
          taskId: String(taskId),
          status,
          owner: runnerId,
          timestamp: now,
          retries: Number(reply[at + 1]),
          attempt: Number(reply[at + 3]),
        }
  const record = reply[at + 4]
  return {
    outcome: claimOutcomeFromCode(id, Number(reply[at]), state),
    record: typeof record === 'string' ? record : null,
  }
}

/** What the transition script's claim part returns after its transitions (at `at`). */
export interface QueuedClaims {
  sawQueued: boolean
  /** Ms until the next delayed id is due, -1 = none. */
  nextDue: number
  claims: ClaimRead[]
}

/**
 * The claim tail of a transition reply: saw queued, next due, a count, then id + claim fields
 * each; claimed ones are RUNNING when the call asked to start them.
 */
export function queuedClaimsAt(
  reply: Reply,
  at: number,
  now: number,
  runnerId: string,
  start = false,
): QueuedClaims {
  const count = Number(reply[at + 2] ?? 0)
  const claims: ClaimRead[] = []
  for (let i = 0, p = at + 3; i < count; i++, p += 1 + CLAIM_FIELDS)
    claims.push(claimAt(reply, p + 1, String(reply[p]), now, runnerId, start ? 'running' : 'pending'))
  return { sawQueued: reply[at] === '1', nextDue: Number(reply[at + 1] ?? -1), claims }
}
