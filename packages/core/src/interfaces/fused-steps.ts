import type { CorruptDataError } from '../errors.js'
import type { InvocationStatus } from '../invocation/status.js'
import type { Backend } from './backend.js'
import type {
  ClaimOutcome,
  InvocationState,
  RegisterRequest,
  RegisterResult,
  TransitionOutcome,
} from './orchestrator.js'
import type { InvocationRecord, Outcome } from './state-backend.js'

/** A claimed invocation (PENDING, owned by the claimer) with its record. */
export interface ClaimedInvocation {
  /** PENDING, or RUNNING when the claim step was asked to start what it claims. */
  state: InvocationState
  /** Null when the state backend holds no record for it. */
  record: InvocationRecord | null
  /** Set (and `record` null) when the stored record cannot be read: the invocation fails alone. */
  recordError?: CorruptDataError
}

/** What one claim step returns. */
export interface ClaimBatch {
  claimed: ClaimedInvocation[]
  /** The ids that were not claimed, with why (`controlled`, `deferred`, …): core reroutes or defers them. */
  unclaimed: Exclude<ClaimOutcome, { outcome: 'claimed' }>[]
  /** The step took ids from the queue (even if none could be claimed): the queue may hold more. */
  sawQueued: boolean
}

/** The end of one run attempt. */
export interface FinishRequest {
  id: string
  /** The attempt the runner claimed: the write is fenced by it. */
  attempt: number
  to: Extract<InvocationStatus, 'success' | 'failed' | 'retry'>
  /** The result or error; absent for RETRY. */
  outcome?: Outcome
  /** RETRY: the id is queued again after this delay. */
  delayMs?: number
}

/** What a finish step returns. */
export interface FinishResult {
  /** One per request, in order. A refused one (`stale`, `ownership`, …) wrote nothing. */
  outcomes: TransitionOutcome[]
  /** Up to `claimNext` ids claimed for the same runner in the same step. */
  next: ClaimBatch
}

/** One final invocation's state and the outcome of its final attempt. */
export interface FinalRead {
  state: InvocationState | null
  outcome: Outcome | null
}

/**
 * The steps a caller and a runner really take, each fused into one round trip where one backend
 * holds every component involved. Optional: when a backend leaves them out — or the user mixes
 * components of different backends — core composes them from the five components
 * ({@link composedSteps}), with identical observable behaviour. A backend factory provides them
 * only over its own components; the conformance suite runs every backend both ways.
 *
 * Each step must mean exactly what its composed form means; the TSDoc of each names that form.
 */
export interface FusedSteps {
  /**
   * The component instances these steps fuse. Core uses the steps only while the app's backend
   * holds these very instances: spreading a factory's backend and replacing one of them (a
   * mixed backend) falls back to the composed steps by itself.
   */
  readonly builtOver: Pick<Backend, 'broker' | 'orchestrator' | 'stateBackend'>
  /**
   * Routing new calls: `StateBackend.upsertInvocations(records)`, then
   * `Orchestrator.register(requests)`, then `Broker.route` of the ids not reused — atomically
   * where the backend can (a registered id is then never left unqueued).
   */
  route(records: readonly InvocationRecord[], requests: readonly RegisterRequest[]): Promise<RegisterResult[]>
  /**
   * `Broker.retrieve(max)`, then `Orchestrator.claim(ids, runnerId)` of what was retrieved
   * (duplicates dropped), then `StateBackend.getInvocations` of the claimed ones. With `start`,
   * each claimed invocation is then moved PENDING → RUNNING for the runner, fenced by its new
   * attempt (`transition` with `actor: runnerId, attempt`), and returned RUNNING: a runner that
   * runs what it claims at once saves the start's round trip. One whose start is refused is
   * reported `skipped` in `unclaimed`.
   */
  claimQueued(runnerId: string, max: number, start?: boolean): Promise<ClaimBatch>
  /**
   * `Orchestrator.claim(ids, runnerId)` (blocking control picked these ids) with the claimed
   * invocations' records.
   */
  claimIds(runnerId: string, ids: readonly string[]): Promise<ClaimBatch>
  /**
   * Ends a batch of attempts: `StateBackend.setOutcomes` (write-once under (id, attempt)), then
   * `Orchestrator.transition` of each to its status with `actor: runnerId` and its attempt, then
   * `Broker.route` of the accepted RETRYs after their delay; then, only when `claimNext > 0`,
   * {@link claimQueued}`(runnerId, claimNext, start)` for the same runner. Where one backend
   * holds both the outcomes and the statuses, an outcome is written only when its transition is
   * accepted.
   */
  finish(
    runnerId: string,
    items: readonly FinishRequest[],
    claimNext: number,
    start?: boolean,
  ): Promise<FinishResult>
  /**
   * `Orchestrator.getStates(ids)`, then `StateBackend.getOutcomes` of each final one under its
   * state's attempt (the attempt whose fenced final transition won).
   */
  readFinal(ids: readonly string[]): Promise<FinalRead[]>
}
