import {
  CorruptDataError,
  type HistoryEntry,
  type InvocationState,
  type InvocationStatus,
  isStatus,
} from '@nenc/core'
import { BACKEND } from './translate-error.js'

/** One history entry as stored; `op` identifies the guarded write that appended it. */
export interface HistoryDoc {
  status: InvocationStatus
  owner: string | null
  actor: string | null
  ts: number
  /** The invocation's attempt after the change. */
  attempt: number
  op?: string
}

/** The orchestrator's document of one invocation (`<prefix>invocations`). */
export interface InvocationDoc {
  _id: string
  taskId: string
  callId: string
  status: InvocationStatus
  owner: string | null
  /** When the current status was entered (ms epoch, the writer's clock). */
  ts: number
  retries: number
  /** Run attempt: 0 at registration, one more on every entry into PENDING (see `StatusRecord.attempt`). */
  attempt: number
  createdAt: number
  registrationKey: string | null
  runningKey: string | null
  reroute: boolean
  /** Equal to `runningKey` while the status is active; a partial unique index makes it the slot. */
  activeKey?: string
  /**
   * Park sequence while parked on `runningKey` (CONCURRENCY_CONTROLLED by a claim that found the
   * key held), oldest first; unset when a release takes it or the status changes.
   */
  parked?: number
  /** Set once blocking-control edges may name this invocation; final transitions then release them. */
  blk?: boolean
  /** Server time of the final transition; the TTL index expires the document from it. */
  finishedAt?: Date
  history: HistoryDoc[]
}

const isStr = (v: unknown): v is string => typeof v === 'string'
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string'
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0

function corrupt(location: string, reason: string): CorruptDataError {
  return new CorruptDataError(BACKEND, location, reason)
}

function checkHistory(entries: unknown, location: string): HistoryDoc[] {
  if (!Array.isArray(entries)) throw corrupt(location, 'history is not an array')
  entries.forEach((h, i) => {
    if (
      typeof h !== 'object' ||
      h === null ||
      !isStatus(h.status) ||
      !isStrOrNull(h.owner) ||
      !isStrOrNull(h.actor) ||
      !isNum(h.ts) ||
      !isCount(h.attempt)
    ) {
      throw corrupt(location, `history entry ${i} is not {status, owner, actor, ts, attempt}`)
    }
  })
  return entries as HistoryDoc[]
}

/**
 * Checks a stored invocation document field by field. `withHistory` false accepts documents
 * read with the history projected away.
 */
export function decodeInvocation(doc: unknown, location: string, withHistory = true): InvocationDoc {
  if (typeof doc !== 'object' || doc === null) throw corrupt(location, 'not a document')
  const d = doc as Record<string, unknown>
  if (!isStr(d._id)) throw corrupt(location, '_id is not a string')
  if (!isStr(d.taskId) || !isStr(d.callId)) throw corrupt(location, 'taskId/callId are not strings')
  if (!isStatus(d.status)) throw corrupt(location, `unknown status ${JSON.stringify(d.status)}`)
  if (!isStrOrNull(d.owner)) throw corrupt(location, 'owner is neither a string nor null')
  if (!isNum(d.ts) || !isNum(d.createdAt)) throw corrupt(location, 'ts/createdAt are not numbers')
  if (!isCount(d.retries)) throw corrupt(location, 'retries is not a count')
  if (!isCount(d.attempt)) throw corrupt(location, 'attempt is not a count')
  if (!isStrOrNull(d.registrationKey) || !isStrOrNull(d.runningKey)) {
    throw corrupt(location, 'registrationKey/runningKey are neither strings nor null')
  }
  if (typeof d.reroute !== 'boolean') throw corrupt(location, 'reroute is not a boolean')
  if (withHistory) checkHistory(d.history, location)
  return d as unknown as InvocationDoc
}

/** The public state of a decoded invocation document. */
export function stateOf(doc: InvocationDoc): InvocationState {
  return {
    id: doc._id,
    taskId: doc.taskId,
    status: doc.status,
    owner: doc.owner,
    timestamp: doc.ts,
    retries: doc.retries,
    attempt: doc.attempt,
  }
}

/** The public history of a stored document (write tokens stripped), oldest first. */
export function historyOf(doc: unknown, location: string): HistoryEntry[] {
  if (typeof doc !== 'object' || doc === null) throw corrupt(location, 'not a document')
  return checkHistory((doc as { history?: unknown }).history, location).map((h) => ({
    status: h.status,
    owner: h.owner,
    actor: h.actor,
    timestamp: h.ts,
    attempt: h.attempt,
  }))
}

/** True when the history of `doc` holds the entry appended by write `op`. */
export function hasOp(doc: unknown, op: string): boolean {
  const history = (doc as { history?: unknown } | null)?.history
  return Array.isArray(history) && history.some((h) => (h as HistoryDoc | null)?.op === op)
}

export { corrupt, isCount, isNum, isStr, isStrOrNull }
