import type { ClaimBatch, FinishRequest } from '../interfaces/fused-steps.js'
import type { Outcome } from '../interfaces/state-backend.js'
import type { NencRuntime } from '../runtime.js'
import { wakeReleased, warnStale } from './claim.js'
import { stepsOf } from './composed-steps.js'

/** The end of one attempt, as the executor queues it. */
export type FinishItem = FinishRequest

/**
 * What trigger conditions watching the task need to see of an ending attempt; the executor
 * gives it only for watched tasks, so other finishes carry nothing extra.
 */
export interface FinishSource {
  taskName: string
  /** The invocation's stored arguments. */
  args: string
}

/**
 * Coalesces the ends of invocations that finish in the same event-loop turn into one finish
 * step ({@link FusedSteps.finish}: outcomes write-once under their attempt, attempt-fenced final
 * statuses, RETRYs queued again) — and, through `claimRoom`, claims the runner's next
 * invocations in the same step. While the backend is unreachable a flush is retried with
 * backoff: the runner still owns these invocations and nobody else will finish them.
 */
export class FinishBatcher {
  private queue: { item: FinishItem; source?: FinishSource; done: (() => void) | null }[] = []
  private scheduled = false
  private flushing: Promise<void> = Promise.resolve()
  private inFlight = 0
  /**
   * Called after each written batch with the invocations claimed in the same step: a runner
   * starts them, and one whose claims wait on the backlog wakes here.
   */
  onWritten: ((next: ClaimBatch) => void) | null = null
  /** How many invocations the runner could start once this batch is written (0: claim nothing). */
  claimRoom: ((finishing: number) => number) | null = null
  /**
   * Called when a write failed (it is retried): the failed step may have claimed invocations
   * whose reply was lost, which the runner then audits for (see the runners' ClaimLoop).
   */
  onWriteFailed: (() => void) | null = null
  /** The claims made with a batch are moved on to RUNNING in the same step (the runner starts them at once). */
  startClaims = false

  constructor(
    private readonly rt: NencRuntime,
    private readonly runnerId: string,
    private readonly isStopping: () => boolean = () => false,
  ) {}

  /** Queues an end; resolves once it is written. */
  finish(item: FinishItem, source?: FinishSource): Promise<void> {
    return new Promise<void>((done) => this.push(item, source, done))
  }

  /**
   * {@link finish} for a caller that does not wait for the write (the executor, once a task has
   * returned): no promise per invocation.
   */
  enqueue(item: FinishItem, source?: FinishSource): void {
    this.push(item, source, null)
  }

  private push(item: FinishItem, source: FinishSource | undefined, done: (() => void) | null): void {
    this.queue.push({ item, source, done })
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        this.flushing = this.flushing.then(() => this.flush())
      })
    }
  }

  /** Ends queued or being written: a runner bounds how far its claims may run ahead of them. */
  get pending(): number {
    return this.queue.length + this.inFlight
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flush())
    await this.flushing
  }

  private async flush(): Promise<void> {
    const batch = this.queue
    this.queue = []
    if (batch.length === 0) return
    this.inFlight = batch.length
    let delay = 50
    let next: ClaimBatch = NOTHING
    for (;;) {
      try {
        next = await this.write(batch)
        break
      } catch (err) {
        this.rt.logger.error({ err, count: batch.length }, 'could not store invocation outcomes; retrying')
        this.onWriteFailed?.()
        if (this.isStopping() && delay > 2000) break
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, 5000)
      }
    }
    this.inFlight = 0
    for (const b of batch) b.done?.()
    this.onWritten?.(next)
  }

  private async write(entries: readonly { item: FinishItem; source?: FinishSource }[]): Promise<ClaimBatch> {
    const items = entries.map((e) => e.item)
    const room = this.isStopping() ? 0 : Math.max(0, this.claimRoom?.(items.length) ?? 0)
    const { outcomes, next } = await stepsOf(this.rt.backend).finish(
      this.runnerId,
      items,
      room,
      this.startClaims,
    )
    // One pass over the batch: the ids that won (final, not RETRY) and their outcomes.
    const won: string[] = []
    const wonOutcomes = new Map<string, Outcome>()
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!
      const r = outcomes[i]!
      if (r.ok) {
        if (item.to === 'retry') continue
        won.push(item.id)
        // Accepted, fenced: these are the winning attempts' outcomes.
        if (item.outcome) wonOutcomes.set(item.id, item.outcome)
      } else if (r.reason !== 'stale') {
        // Lost race: the invocation was killed and rerouted (runner stop) or recovered; its new
        // owner runs it. A stale attempt is worth a warning (this runner was presumed dead).
        this.rt.logger.debug(
          { invocationId: item.id, attempt: item.attempt, to: item.to, reason: r.reason },
          'finish transition rejected',
        )
      }
    }
    warnStale(
      this.rt,
      items.map((i) => i.id),
      outcomes,
    )
    // Before waiters learn the outcome: a caller that awaits a result and then evaluates
    // triggers in this process sees the conditions it satisfied.
    await this.reportToTriggers(entries, outcomes)
    if (won.length) this.rt.waiter.markFinal(won, wonOutcomes)
    // Ends release running keys: the invocations parked on them run next.
    // Not retried with the batch (its ends are written): a lost wake-up is recovery's
    // (`orchestrator.parkedRecheckMs`).
    await wakeReleased(this.rt, this.runnerId, outcomes).catch((err: unknown) =>
      this.rt.logger.error({ err }, 'could not wake invocations parked on released keys; recovery will'),
    )
    return next
  }

  /**
   * Status, result and exception conditions are matched here, where the status is written (at
   * the source). Only accepted ends of watched tasks count; a failure to record them is logged,
   * not retried with the batch (its ends are written).
   */
  private async reportToTriggers(
    entries: readonly { item: FinishItem; source?: FinishSource }[],
    outcomes: readonly { ok: boolean }[],
  ): Promise<void> {
    const triggers = this.rt.triggers
    if (!triggers?.hasTriggers) return
    const attempts = entries.flatMap((e, i) =>
      e.source && outcomes[i]!.ok
        ? [
            {
              invocationId: e.item.id,
              taskName: e.source.taskName,
              args: e.source.args,
              status: e.item.to,
              outcome: e.item.outcome?.value ?? null,
            },
          ]
        : [],
    )
    if (attempts.length === 0) return
    await triggers
      .reportFinished(attempts)
      .catch((err: unknown) =>
        this.rt.logger.error({ err }, 'could not record trigger conditions of finished invocations'),
      )
  }
}

const NOTHING: ClaimBatch = { claimed: [], unclaimed: [], sawQueued: false }
