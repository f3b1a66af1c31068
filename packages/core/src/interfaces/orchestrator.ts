import type { InvocationStatus, StatusRecord } from '../invocation/status.js'
import type { Component, Unsubscribe } from './component.js'
import type { InvocationCount, InvocationCountQuery, InvocationPage, InvocationPageQuery } from './listing.js'
import type { Outcome } from './state-backend.js'

export interface OrchestratorCapabilities {
  /** Final-status notifications are pushed by the server. */
  pushedFinalNotifications: boolean
}

/** What the orchestrator stores for a new invocation (REGISTERED). */
export interface RegisterRequest {
  id: string
  taskId: string
  callId: string
  /** Runner id of the caller (the first history entry's actor). */
  actor: string
  /**
   * Registration concurrency key: when set and an invocation with the same key is REGISTERED,
   * that invocation is reused instead of creating this one.
   */
  registrationKey: string | null
  /** Running concurrency key: at most one invocation per key is PENDING/RUNNING/PAUSED/RESUMED. */
  runningKey: string | null
  /** When blocked at claim: true → CONCURRENCY_CONTROLLED (reroute); false → CONCURRENCY_CONTROLLED_FINAL. */
  rerouteOnConcurrencyControl: boolean
}

export type RegisterResult = { id: string; reused: false } | { id: string; reused: true; existingId: string }

/** The status record of one invocation plus its retry counter. */
export interface InvocationState extends StatusRecord {
  id: string
  taskId: string
  /** Times the invocation entered RETRY. */
  retries: number
}

export interface TransitionRequest {
  id: string
  to: InvocationStatus
  /** Runner id making the change. */
  actor: string | null
  /**
   * The attempt the actor claimed. When given, the change is applied only while the stored
   * attempt is this one (otherwise `stale`, nothing written): every write a runner makes for an
   * invocation it runs names its attempt. Recovery and routing leave it out.
   */
  attempt?: number
}

export type TransitionOutcome =
  | {
      ok: true
      state: InvocationState
      /**
       * Invocations this transition woke: it released a running key (left the active statuses,
       * no other active invocation holds the key) and the oldest invocation parked on that key
       * was taken off its list. Still CONCURRENCY_CONTROLLED: the caller moves them to REROUTED
       * and queues them. Absent or empty when none.
       */
      released?: string[]
    }
  | { ok: false; reason: 'not_found' }
  | {
      ok: false
      reason: 'invalid_transition'
      current: InvocationState
      allowed: readonly InvocationStatus[]
    }
  | { ok: false; reason: 'ownership'; current: InvocationState; detail: string }
  /** The request named an attempt that is no longer the invocation's: a newer claim holds it. */
  | { ok: false; reason: 'stale'; current: InvocationState; attempt: number }

/** Result of claiming one id for a runner. */
export type ClaimOutcome =
  /** Now PENDING, owned by the runner. */
  | { id: string; outcome: 'claimed'; state: InvocationState }
  /**
   * Blocked by running concurrency: moved to CONCURRENCY_CONTROLLED and parked on its running
   * key. It waits there — no polling — until a transition releases the key and reports it in
   * `released`.
   */
  | { id: string; outcome: 'controlled' }
  /** Blocked and moved to CONCURRENCY_CONTROLLED_FINAL (dropped). */
  | { id: string; outcome: 'controlled_final' }
  /** Blocked but its status cannot enter a controlled status (RETRY): unchanged, the caller must route it again later. */
  | { id: string; outcome: 'deferred' }
  /** Unknown id, or no longer available for run (stale or duplicate queue entry): nothing changed. */
  | { id: string; outcome: 'skipped' }

/**
 * Outcomes a final-status notification may carry (optional, small ones only): each the outcome
 * of the winning attempt, written in the same atomic step as the final status it announces. A
 * waiter that has it needs no read.
 */
export type FinalOutcomes = ReadonlyMap<string, Outcome>

/** One entry of an invocation's status history. */
export interface HistoryEntry {
  status: InvocationStatus
  /** Owner after the change. */
  owner: string | null
  /** Runner id that made the change. */
  actor: string | null
  /** Milliseconds since epoch. */
  timestamp: number
  /** The invocation's attempt after the change (see {@link StatusRecord.attempt}). */
  attempt: number
}

export interface RunnerHeartbeat {
  runnerId: string
  /** First heartbeat (ms epoch); orders runners for atomic-service slots. */
  createdAt: number
  lastHeartbeat: number
  /** May run global services (top-level runners only). */
  canRunAtomicService: boolean
}

export interface ListInvocationsQuery {
  taskId?: string
  statuses?: readonly InvocationStatus[]
  limit?: number
  offset?: number
}

/**
 * Status, ownership and coordination of invocations. Every status change — including the
 * running-concurrency check of a claim — is one atomic compare-and-set on (status, owner), never
 * a read followed by a write, and appends the history entry in the same atomic step. The rules
 * come from core's status table (`checkTransition`), never from the backend.
 */
export interface Orchestrator extends Component {
  readonly capabilities: OrchestratorCapabilities
  /**
   * Creates REGISTERED records (owner none, retries 0, first history entry) in one round trip.
   * Registration concurrency: a request whose `registrationKey` matches a REGISTERED invocation
   * (stored earlier or earlier in the same batch) is not created and reports the existing id.
   * Repeat call with an existing id: the existing record is kept and reported as not reused.
   */
  register(requests: readonly RegisterRequest[]): Promise<RegisterResult[]>
  /**
   * Applies each transition atomically (validated by core's `checkTransition` against the stored
   * record, passing the request's `attempt`) and appends its history entry. Entering RETRY increments the retry counter; entering
   * a final status releases blocking-control edges where the invocation was waited on and
   * notifies final-status subscribers. Leaving the active statuses releases the invocation's
   * running key when no other active invocation holds it: the oldest invocation parked on the
   * key (and still CONCURRENCY_CONTROLLED) leaves the parked list in the same step and is
   * reported in the outcome's `released`. Never throws for a rejected transition: outcomes say why,
   * and nothing is written for them. Outcomes are in request order.
   */
  transition(requests: readonly TransitionRequest[]): Promise<TransitionOutcome[]>
  /**
   * For each id in order, atomically: skip unless its status is available for run; when it has a
   * running key held by an active invocation, move it to a controlled status (CONCURRENCY_CONTROLLED
   * parks it on the key, oldest first; or defer it when its status cannot be controlled); else
   * move it to PENDING owned by `runnerId`, starting its next attempt. With N concurrent claimers of one id exactly one gets
   * `claimed`. Ids claimed earlier in the same call count as active for later ones.
   */
  claim(ids: readonly string[], runnerId: string): Promise<ClaimOutcome[]>
  /** States of the given ids in input order; null for unknown ids. */
  getStates(ids: readonly string[]): Promise<(InvocationState | null)[]>
  /** The status history, oldest first. Unknown id: []. */
  getHistory(id: string): Promise<HistoryEntry[]>
  /** Ids newest first, filtered by task and statuses. */
  listInvocations(query: ListInvocationsQuery): Promise<string[]>
  /**
   * One page of ids matching every given filter, newest first (creation time, then id), with a
   * keyset cursor (see {@link InvocationPage}). Bad limit, cursor or bounds: `InvalidQueryError`.
   */
  pageInvocations(query: InvocationPageQuery): Promise<InvocationPage>
  /** Invocations per (task, current status) among those matching the filter; zero counts left out. */
  countInvocations(query: InvocationCountQuery): Promise<InvocationCount[]>
  /**
   * Removes the given invocations that are in a final status — state, history and listing
   * entries — and returns the ids removed (unknown and non-final ids are left alone). A final
   * status never changes, so this cannot race a runner. Idempotent. Records, outcomes and
   * progress are the state backend's (`StateBackend.deleteInvocations`); core's retention sweep
   * removes those first.
   */
  deleteFinalInvocations(ids: readonly string[]): Promise<string[]>

  /** Blocking control: `waiterId` waits for each of `waitedIds`. Idempotent. */
  addWaiting(waiterId: string, waitedIds: readonly string[]): Promise<void>
  /**
   * Up to `max` ids that some invocation waits on, that wait on nothing themselves and are
   * available for run, ranked by number of waiters (most first), then oldest first.
   */
  getBlockingInvocations(max: number): Promise<string[]>

  /** Records a heartbeat for each runner id (first call sets `createdAt`). */
  heartbeat(runnerIds: readonly string[], canRunAtomicService: boolean): Promise<void>
  /** Runners with a heartbeat within `timeoutMs`, ordered by `createdAt`. */
  getActiveRunners(timeoutMs: number): Promise<RunnerHeartbeat[]>
  /** PENDING ids whose status is older than `olderThanMs`. */
  getPendingForRecovery(olderThanMs: number, limit: number): Promise<string[]>
  /**
   * RUNNING, PAUSED or RESUMED ids whose owner has no heartbeat within `deadAfterMs` (an owner
   * that never heartbeated counts as dead).
   */
  getRunningForRecovery(deadAfterMs: number, limit: number): Promise<string[]>

  /** Calls `listener` with ids that reached a final status in any process of this app. */
  subscribeFinal(listener: (ids: string[], outcomes?: FinalOutcomes) => void): Promise<Unsubscribe>
  /** Removes every record of this app. */
  purge(): Promise<void>
}
