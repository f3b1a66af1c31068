import type { Outcome } from '../interfaces/state-backend.js'
import type { InvocationStatus } from '../invocation/status.js'
import type { NencRuntime } from '../runtime.js'

export interface FinishItem {
  id: string
  to: Extract<InvocationStatus, 'success' | 'failed' | 'retry'>
  /** Stored before the status changes (results and errors); absent for RETRY. */
  outcome?: Outcome
  /** RETRY: delay before the id is offered again. */
  delayMs?: number
}

/**
 * Coalesces the ends of invocations that finish in the same event-loop turn into one outcome
 * write, one transition call and one route per delay — three round trips for a whole batch
 * instead of three per invocation. Outcomes are always written before the final statuses.
 * While the backend is unreachable a flush is retried with backoff: the runner still owns these
 * invocations and nobody else will finish them.
 */
export class FinishBatcher {
  private queue: { item: FinishItem; done: () => void }[] = []
  private scheduled = false
  private flushing: Promise<void> = Promise.resolve()
  private inFlight = 0
  /** Called after each written batch: a runner whose claims wait on the backlog wakes here. */
  onWritten: (() => void) | null = null

  constructor(
    private readonly rt: NencRuntime,
    private readonly runnerId: string,
    private readonly isStopping: () => boolean = () => false,
  ) {}

  finish(item: FinishItem): Promise<void> {
    return new Promise<void>((done) => {
      this.queue.push({ item, done })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => {
          this.scheduled = false
          this.flushing = this.flushing.then(() => this.flush())
        })
      }
    })
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
    for (;;) {
      try {
        await this.write(batch.map((b) => b.item))
        break
      } catch (err) {
        this.rt.logger.error({ err, count: batch.length }, 'could not store invocation outcomes; retrying')
        if (this.isStopping() && delay > 2000) break
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, 5000)
      }
    }
    this.inFlight = 0
    for (const b of batch) b.done()
    this.onWritten?.()
  }

  private async write(items: FinishItem[]): Promise<void> {
    const { stateBackend, orchestrator, broker } = this.rt.backend
    const outcomes = items.filter((i) => i.outcome).map((i) => ({ id: i.id, outcome: i.outcome! }))
    if (outcomes.length) await stateBackend.setOutcomes(outcomes)
    const results = await orchestrator.transition(
      items.map((i) => ({ id: i.id, to: i.to, actor: this.runnerId })),
    )
    const retryByDelay = new Map<number, string[]>()
    items.forEach((item, i) => {
      const r = results[i]!
      if (!r.ok) {
        // Lost race: the invocation was killed and rerouted (runner stop) or recovered; its new
        // owner will run it. Not an error.
        this.rt.logger.debug({ id: item.id, to: item.to, reason: r.reason }, 'finish transition rejected')
        return
      }
      if (item.to === 'retry') {
        const d = item.delayMs ?? 0
        const list = retryByDelay.get(d) ?? []
        list.push(item.id)
        retryByDelay.set(d, list)
      }
    })
    if (results.some((r) => r.ok && r.state.status !== 'retry')) {
      this.rt.waiter.markFinal(
        items.filter((it, i) => results[i]!.ok && it.to !== 'retry').map((it) => it.id),
      )
    }
    for (const [delayMs, ids] of retryByDelay) await broker.route(ids, { delayMs })
  }
}
