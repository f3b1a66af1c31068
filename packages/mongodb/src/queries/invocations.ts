import {
  checkTransition,
  FINAL_STATUSES,
  type InvocationState,
  type InvocationStatus,
  isActive,
  isAvailableForRun,
  isFinal,
  type ListInvocationsQuery,
  type RegisterRequest,
  rejectionOutcome,
  STATUS_TABLE,
  type TransitionOutcome,
} from '@nenc/core'
import type { Document } from 'mongodb'
import { type HistoryDoc, type InvocationDoc, stateOf } from '../documents.js'

/** A guarded single-document update: apply `update` only if the document still matches `filter`. */
export interface GuardedUpdate {
  filter: Document
  update: Document
}

/** The document `register()` inserts for a new invocation: REGISTERED, no owner, retries 0, attempt 0. */
export function newInvocationDoc(req: RegisterRequest, now: number, op: string): InvocationDoc {
  const first: HistoryDoc = { status: 'registered', owner: null, actor: req.actor, ts: now, attempt: 0, op }
  return {
    _id: req.id,
    taskId: req.taskId,
    callId: req.callId,
    status: 'registered',
    owner: null,
    ts: now,
    retries: 0,
    attempt: 0,
    createdAt: now,
    registrationKey: req.registrationKey,
    runningKey: req.runningKey,
    reroute: req.rerouteOnConcurrencyControl,
    history: [first],
  }
}

/**
 * The compare part of a transition's compare-and-set: the status, owner and attempt the
 * transition was validated against, plus the retry count and status time, which make it a
 * version check (a document that left this status and came back, A→B→A, no longer matches, so
 * the returned state is exact). The attempt is what fences a runner's write: a claim that lands
 * between the read and the write starts a new attempt, the write loses, and re-validation
 * against the re-read document reports it `stale`. When the transition is final, the
 * blocking-control mark is compared too, so an edge added after the read makes the write lose
 * and be re-validated with the mark seen.
 */
export function guardFilter(doc: InvocationDoc, toFinal: boolean): Document {
  const filter: Document = {
    _id: doc._id,
    status: doc.status,
    owner: doc.owner,
    attempt: doc.attempt,
    retries: doc.retries,
    ts: doc.ts,
  }
  if (toFinal) filter.blk = doc.blk === true ? true : { $ne: true }
  return filter
}

export type TransitionPlan =
  | {
      ok: true
      write: GuardedUpdate
      next: InvocationState
      final: boolean
      releasesEdges: boolean
      /** The running key this transition gives up by leaving the active statuses, else null. */
      leavesKey: string | null
    }
  | RejectedPlan

type RejectedPlan = Extract<
  TransitionOutcome,
  { ok: false; reason: 'invalid_transition' | 'ownership' | 'stale' }
>

/**
 * Validates `doc → to` with core's `checkTransition` (fenced by `attempt` when given: another
 * stored attempt makes it `stale`, checked first) and builds the one update that applies it:
 * new status, owner, timestamp and attempt (one more on entering PENDING), the history entry
 * carrying the attempt, the retry increment, the running-
 * concurrency slot (taken on entering PENDING when `takeRunningKey`, released on leaving the
 * active statuses), the park sequence (set on entering CONCURRENCY_CONTROLLED when `parked` is
 * given, unset on leaving it: see `queries/parking.ts`) and the TTL timestamp of final statuses.
 */
export function planTransition(
  doc: InvocationDoc,
  to: InvocationStatus,
  actor: string | null,
  now: number,
  op: string,
  takeRunningKey = true,
  attempt?: number | null,
  parked: number | null = null,
): TransitionPlan {
  // Never before the current status's time: writers' clocks differ, histories stay ordered.
  const at = Math.max(now, doc.ts)
  const check = checkTransition(
    { status: doc.status, owner: doc.owner, timestamp: doc.ts, attempt: doc.attempt },
    to,
    actor,
    at,
    attempt,
  )
  // A rejected check always maps to one of the three rejections.
  if (!check.ok) return rejectionOutcome(check, stateOf(doc)) as RejectedPlan
  const { owner, attempt: nextAttempt } = check.next
  const final = isFinal(to)
  const entry: HistoryDoc = { status: to, owner, actor, ts: at, attempt: nextAttempt, op }
  const set: Document = { status: to, owner, ts: at }
  if (nextAttempt !== doc.attempt) set.attempt = nextAttempt
  const update: Document = { $set: set, $push: { history: entry } }
  if (to === 'retry') update.$inc = { retries: 1 }
  if (isActive(to) && !isActive(doc.status) && takeRunningKey && doc.runningKey !== null) {
    set.activeKey = doc.runningKey
  }
  const leavesKey = !isActive(to) && isActive(doc.status) ? doc.runningKey : null
  if (!isActive(to) && isActive(doc.status)) update.$unset = { activeKey: '' }
  if (to === 'concurrency_controlled' && parked !== null && doc.runningKey !== null) set.parked = parked
  if (doc.status === 'concurrency_controlled' && doc.parked !== undefined) {
    update.$unset = { ...update.$unset, parked: '' }
  }
  // Server time, not the writer's: the TTL monitor and the polling feed compare it to server time.
  if (final) update.$currentDate = { finishedAt: true }
  const next: InvocationState = {
    ...stateOf(doc),
    status: to,
    owner,
    timestamp: at,
    retries: doc.retries + (to === 'retry' ? 1 : 0),
    attempt: nextAttempt,
  }
  return {
    ok: true,
    write: { filter: guardFilter(doc, final), update },
    next,
    final,
    releasesEdges: final && doc.blk === true,
    leavesKey,
  }
}

/** What a claim does with one invocation, given whether its running-concurrency slot is taken. */
export type ClaimDecision =
  | { action: 'skip' }
  | { action: 'defer' }
  | { action: 'transition'; to: 'pending' | 'concurrency_controlled' | 'concurrency_controlled_final' }

/**
 * Memory's claim rules as a pure decision: skip unless available for run; with the slot free →
 * PENDING; with the slot held → CONCURRENCY_CONTROLLED_FINAL (no reroute), else
 * CONCURRENCY_CONTROLLED, else (RETRY cannot enter either) defer. The allowed targets come from
 * core's status table.
 */
export function claimDecision(doc: InvocationDoc | null, slotHeld: boolean): ClaimDecision {
  if (!doc || !isAvailableForRun(doc.status)) return { action: 'skip' }
  if (!slotHeld) return { action: 'transition', to: 'pending' }
  const allowed = STATUS_TABLE[doc.status].allowedTargets
  if (!doc.reroute && allowed.includes('concurrency_controlled_final')) {
    return { action: 'transition', to: 'concurrency_controlled_final' }
  }
  if (allowed.includes('concurrency_controlled'))
    return { action: 'transition', to: 'concurrency_controlled' }
  return { action: 'defer' }
}

/** Projection for reads that need the status but not the (growing) history. */
export const NO_HISTORY = { history: 0 } as const

/** `listInvocations`: newest first (creation time, then id), filtered by task and statuses. */
export function listQuery(q: ListInvocationsQuery): {
  filter: Document
  sort: Document
  skip: number
  limit: number
} {
  const filter: Document = {}
  if (q.taskId) filter.taskId = q.taskId
  if (q.statuses) filter.status = { $in: [...q.statuses] }
  return { filter, sort: { createdAt: -1, _id: -1 }, skip: q.offset ?? 0, limit: q.limit ?? 100 }
}

/**
 * REGISTERED invocations holding one of `keys` (registration-concurrency conflicts). It repeats
 * the partial filter of `nenc_registration_key` so the planner may use that index.
 */
export function registeredByKeyFilter(keys: readonly string[]): Document {
  return { status: 'registered', registrationKey: { $in: [...keys], $type: 'string' } }
}

/** PENDING invocations whose status is older than `before` (ms epoch). */
export function pendingForRecoveryFilter(before: number): Document {
  return { status: 'pending', ts: { $lt: before } }
}

/** Statuses whose owner must be alive; a dead owner's invocation is recovered. */
export const OWNED_RUNNING_STATUSES: readonly InvocationStatus[] = ['running', 'paused', 'resumed']

/** RUNNING/PAUSED/RESUMED invocations whose owner is not among the live runners. */
export function runningForRecoveryFilter(liveRunnerIds: readonly string[]): Document {
  return { status: { $in: [...OWNED_RUNNING_STATUSES] }, owner: { $nin: [...liveRunnerIds] } }
}

/** Change-stream stages of the final-status feed: updates that set a final status, ids only. */
export const FINALS_FEED_PIPELINE: Document[] = [
  {
    $match: {
      operationType: 'update',
      'updateDescription.updatedFields.status': { $in: [...FINAL_STATUSES] },
    },
  },
  { $project: { documentKey: 1 } },
]

/** Invocations finished at or after `lowerMs` (server time), for the polling final-status feed. */
export function finishedSinceFilter(lowerMs: number): Document {
  return { finishedAt: { $gte: new Date(lowerMs) } }
}
