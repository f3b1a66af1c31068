import type {
  ClaimBatch,
  ClaimedInvocation,
  FinalRead,
  FinishRequest,
  FinishResult,
  FusedSteps,
  InvocationRecord,
  RegisterRequest,
  RegisterResult,
} from '@nenc/core'
import type { ClaimRead, QueuedClaims } from './orchestrator-codec.js'
import type { RedisBroker } from './redis-broker.js'
import type { RedisOrchestrator } from './redis-orchestrator.js'
import type { RedisStateBackend } from './redis-state-backend.js'
import { encodeOutcome } from './state-codec.js'

const EMPTY: ClaimBatch = { claimed: [], unclaimed: [], sawQueued: false }

/**
 * The fused steps of one `redisBackend()` (see core's `FusedSteps`): each step is one script call
 * — one round trip, one atomic step on the server — over the three components it was built
 * with, which share one connection and one app prefix:
 *
 * - `route`: the register script writes the records, registers and queues the ids not reused.
 * - `claimQueued`: the transition script with no requests moves due ids, pops, claims and reads
 *   the claimed records; with `start`, each claimed one is moved on to RUNNING in the same script.
 * - `claimIds`: the claim script with the claimed records.
 * - `finish`: the transition script, each item fenced by its attempt; an outcome is written
 *   (HSETNX under the attempt) and a RETRY queued only when its transition is accepted; then
 *   the claim of the next queued ids for the same runner (started too with `start`). Its
 *   outcomes carry `released`, the ids its ends unparked from the running keys they freed.
 * - The claim steps park what running concurrency blocks (CONCURRENCY_CONTROLLED) on its key,
 *   as `claim` does.
 * - `readFinal`: the get-states script with the outcome of each final state's attempt.
 */
export class RedisSteps implements FusedSteps {
  readonly builtOver: {
    broker: RedisBroker
    orchestrator: RedisOrchestrator
    stateBackend: RedisStateBackend
  }

  constructor(
    private readonly broker: RedisBroker,
    private readonly orchestrator: RedisOrchestrator,
    private readonly stateBackend: RedisStateBackend,
  ) {
    this.builtOver = { broker, orchestrator, stateBackend }
  }

  async route(
    records: readonly InvocationRecord[],
    requests: readonly RegisterRequest[],
  ): Promise<RegisterResult[]> {
    if (requests.length === 0) {
      await this.stateBackend.upsertInvocations(records)
      return []
    }
    return this.orchestrator.registerWith(records, requests, true)
  }

  async claimQueued(runnerId: string, max: number, start = false): Promise<ClaimBatch> {
    if (max <= 0) return EMPTY
    const { next } = await this.orchestrator.transitionWith([], { runnerId, max, start })
    return this.batchOf(next!)
  }

  async claimIds(runnerId: string, ids: readonly string[]): Promise<ClaimBatch> {
    if (ids.length === 0) return EMPTY
    return this.batch(await this.orchestrator.claimWith(ids, runnerId, true), false)
  }

  async finish(
    runnerId: string,
    items: readonly FinishRequest[],
    claimNext: number,
    start = false,
  ): Promise<FinishResult> {
    const claim = claimNext > 0 ? { runnerId, max: claimNext, start } : null
    if (items.length === 0 && !claim) return { outcomes: [], next: EMPTY }
    const { outcomes, next } = await this.orchestrator.transitionWith(
      items.map((i) => ({
        id: i.id,
        to: i.to,
        actor: runnerId,
        attempt: i.attempt,
        ...(i.outcome ? { outcome: encodeOutcome(i.outcome) } : {}),
        ...(i.to === 'retry' ? { delayMs: i.delayMs ?? 0 } : {}),
      })),
      claim,
    )
    return { outcomes, next: next ? this.batchOf(next) : EMPTY }
  }

  async readFinal(ids: readonly string[]): Promise<FinalRead[]> {
    if (ids.length === 0) return []
    const reads = await this.orchestrator.readStates(ids, true)
    return reads.map(({ state, outcome }) => ({
      state,
      outcome: state ? this.stateBackend.decodeOutcome(outcome, state.id) : null,
    }))
  }

  private batchOf(next: QueuedClaims): ClaimBatch {
    this.broker.noteNextDue(next.nextDue)
    return this.batch(next.claims, next.sawQueued)
  }

  /** A claim batch from claims read by a script; a record that cannot be read fails its own id only. */
  private batch(claims: readonly ClaimRead[], sawQueued: boolean): ClaimBatch {
    const batch: ClaimBatch = { claimed: [], unclaimed: [], sawQueued }
    for (const { outcome, record } of claims) {
      if (outcome.outcome !== 'claimed') {
        batch.unclaimed.push(outcome)
        continue
      }
      const r = this.stateBackend.decodeRecord(record, outcome.id)
      const claimed: ClaimedInvocation =
        r instanceof Error
          ? { state: outcome.state, record: null, recordError: r }
          : { state: outcome.state, record: r }
      batch.claimed.push(claimed)
    }
    return batch
  }
}
