import type { NencRuntime, StartedInvocation, Unsubscribe, WaitHooks } from '@nenc/core'
import type { ChildMessage, StartedItem } from './child-protocol.js'
import { ClaimLoop } from './claim-loop.js'

export interface WorkerLoopOptions {
  app: NencRuntime
  runnerId: string
  /** Invocations executing at once; waiting ones are not counted. */
  slots: number
  /** Tells the supervisor what the loop owns (IPC in a child). */
  report(message: ChildMessage): void
}

/**
 * The claim loop of a supervised child (PersistentProcessRunner: 1 slot; MultiThreadRunner: the
 * ThreadRunner's slots). It is ThreadRunner's loop without BaseRunner's parent duties: it acts
 * under the child's id, never runs atomic services, and reports what it claims, starts and ends
 * so the parent can reroute for it if it dies. It sleeps until a pushed wake-up (ids routed, a
 * slot freed, a task starting to wait), with `runner.idleWakeMs` as the safety net.
 */
export class WorkerLoop implements WaitHooks {
  private readonly app: NencRuntime
  private readonly claims: ClaimLoop
  private running = false
  private stopping = false
  private wakePending = false
  private wakeResolve: (() => void) | null = null
  private unsubscribe: Unsubscribe | null = null
  private loopDone: Promise<void> = Promise.resolve()
  private lastBusy = -1

  constructor(private readonly options: WorkerLoopOptions) {
    this.app = options.app
    const slotsMax = Math.max(1, options.slots)
    this.claims = new ClaimLoop({
      app: this.app,
      executorRuntime: this.app,
      runnerId: options.runnerId,
      hooks: this,
      isStopping: () => this.stopping,
      maxSlots: () => slotsMax,
      wake: () => this.wake(),
      onClaimed: (ids) => options.report({ type: 'claimed', ids }),
      onStarted: (started) => {
        options.report({ type: 'started', items: started.map((s) => startedItem(this.app, s)) })
        this.reportLoad()
      },
      onEnded: (ids) => {
        options.report({ type: 'ended', ids })
        this.reportLoad()
      },
    })
  }

  get busySlots(): number {
    return this.claims.slots.busy
  }

  async start(): Promise<void> {
    this.running = true
    this.unsubscribe = await this.app.backend.broker.subscribe(() => this.wake())
    this.loopDone = this.loop()
  }

  wake(): void {
    this.wakePending = true
    const r = this.wakeResolve
    this.wakeResolve = null
    r?.()
  }

  waitingStart(invocationId: string): void {
    if (!this.claims.slots.markWaiting(invocationId)) return
    this.options.report({ type: 'waiting', id: invocationId })
    this.reportLoad()
    this.wake()
  }

  waitingEnd(invocationId: string): void {
    if (!this.claims.slots.markResumed(invocationId)) return
    this.options.report({ type: 'resumed', id: invocationId })
    this.reportLoad()
  }

  private async loop(): Promise<void> {
    const idleWakeMs = this.app.config.value<number>('runner.idleWakeMs')
    let errorDelay = 50
    while (this.running) {
      this.wakePending = false
      let again = false
      try {
        again = await this.claims.iteration()
        errorDelay = 50
      } catch (err) {
        this.app.logger.error({ err, runnerId: this.options.runnerId }, 'worker iteration failed; retrying')
        await this.waitForWake(errorDelay)
        errorDelay = Math.min(errorDelay * 2, 5000)
        continue
      }
      if (!this.running) break
      if (!again) await this.waitForWake(idleWakeMs)
    }
  }

  private reportLoad(): void {
    const busy = this.busySlots
    if (busy === this.lastBusy) return
    this.lastBusy = busy
    this.options.report({ type: 'load', busy })
  }

  private waitForWake(ms: number): Promise<void> {
    if (this.wakePending || !this.running) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeResolve = null
        resolve()
      }, ms)
      this.wakeResolve = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /**
   * Stops claiming, then stops what runs the graceful way (see {@link SlotTable.stopGracefully}):
   * waiting slots are rerouted at once, the others get `graceMs` to finish here, and only what
   * still runs then is moved RUNNING → KILLED → REROUTED while this loop still owns it, then
   * aborted. Outcomes written during the grace are flushed before it resolves.
   */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopping = true
    this.wake()
    await this.loopDone
    await this.unsubscribe?.()
    await this.claims.stop(graceMs)
  }
}

/** What the parent needs to enforce a started invocation's timeout. */
export function startedItem(app: NencRuntime, s: StartedInvocation): StartedItem {
  const taskName = s.record?.taskName ?? ''
  const timeoutMs = app.getTask(taskName)?.options.timeoutMs ?? 0
  return { id: s.state.id, taskName, timeoutMs, retries: s.state.retries }
}
