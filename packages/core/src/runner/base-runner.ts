import { hostname } from 'node:os'
import type { WaitHooks } from '../context.js'
import { RunnerError } from '../errors.js'
import { newRunnerId } from '../ids.js'
import type { Unsubscribe } from '../interfaces/component.js'
import { isInServiceWindow } from '../orchestration/atomic-service.js'
import { killAndReroute } from '../orchestration/claim.js'
import { type RecoveryReport, recoverInvocations } from '../orchestration/recovery.js'
import { RetentionSweeper } from '../orchestration/retention-sweeper.js'
import type { NencRuntime } from '../runtime.js'

type RunnerState = 'idle' | 'running' | 'stopping'

/**
 * The runner loop shared by every runner (reference-behaviour §4.1): lifecycle, pushed
 * wake-ups, heartbeats, SIGINT/SIGTERM and kill-and-reroute. A subclass implements
 * {@link iteration} (claim and start work) and {@link onStop} (settle its slots).
 *
 * The loop never sleeps on a fixed period: after an iteration that found nothing to do it waits
 * for a wake-up — ids routed (broker notification), a slot freed, a task starting to wait — with
 * `runner.idleWakeMs` only as a safety net.
 */
export abstract class BaseRunner implements WaitHooks {
  /** Whether the runner can share memory with in-memory components (runs tasks in this process). */
  static readonly memCompatible: boolean = true

  readonly runnerId: string
  private boundApp: NencRuntime | null = null
  private state: RunnerState = 'idle'
  private loopDone: Promise<void> = Promise.resolve()
  private wakePending = false
  private wakeResolve: (() => void) | null = null
  private heartbeatTimer: NodeJS.Timeout | null = null
  private serviceTimer: NodeJS.Timeout | null = null
  /** The recovery pass in progress, so stop() can wait for it instead of closing under it. */
  private servicePass: Promise<RecoveryReport | null> | null = null
  /**
   * Whether this runner takes part in atomic-service slots (recovery). Child runners inside a
   * process supervisor set it false: their parent represents them.
   */
  protected runsAtomicServices = true
  private unsubscribe: Unsubscribe | null = null
  private readonly retention = new RetentionSweeper()
  private signalHandler: ((signal: NodeJS.Signals) => void) | null = null

  constructor(runnerId?: string) {
    this.runnerId = runnerId ?? newRunnerId(this.constructor.name)
  }

  /** The runner class name as recorded in runner contexts. */
  get runnerClass(): string {
    return this.constructor.name
  }

  /** True when this runner's class runs tasks in the app's own process. */
  get memCompatible(): boolean {
    return (this.constructor as typeof BaseRunner).memCompatible
  }

  /** How many invocations the runner executes at once. */
  abstract get maxParallelSlots(): number

  /** @internal called by the app that owns the runner. */
  bind(app: NencRuntime): void {
    if (this.boundApp && this.boundApp !== app) {
      throw new RunnerError(
        `${this.runnerClass} is already bound to app "${this.boundApp.appId}"; create one runner per app.`,
      )
    }
    this.boundApp = app
  }

  protected get app(): NencRuntime {
    if (!this.boundApp)
      throw new RunnerError(
        `${this.runnerClass} is not bound to an app; pass it as \`runner\` to new Nenc().`,
      )
    return this.boundApp
  }

  get isRunning(): boolean {
    return this.state === 'running'
  }

  protected get isStopping(): boolean {
    return this.state === 'stopping'
  }

  /** Starts the loop in this process; resolves once it is running. */
  async start(): Promise<void> {
    if (this.state !== 'idle')
      throw new RunnerError(`${this.runnerClass} ${this.runnerId} is already ${this.state}.`)
    const app = this.app
    await app.ready()
    this.state = 'running'
    try {
      await app.backend.stateBackend.storeRunnerContext({
        runnerId: this.runnerId,
        runnerClass: this.runnerClass,
        parentRunnerId: null,
        pid: process.pid,
        hostname: hostname(),
        startedAt: Date.now(),
        slots: this.maxParallelSlots,
      })
      await this.beat()
      this.unsubscribe = await app.backend.broker.subscribe(() => this.wake())
      await this.onStart()
    } catch (err) {
      this.state = 'idle'
      await this.unsubscribe?.()
      throw err
    }
    const interval = app.config.value<number>('runner.heartbeatIntervalMs')
    this.heartbeatTimer = setInterval(() => void this.beat(), interval)
    this.heartbeatTimer.unref()
    if (this.runsAtomicServices) {
      const check = app.config.value<number>('orchestrator.atomicServiceCheckMs')
      this.serviceTimer = setInterval(() => void this.runAtomicServices(), check)
      this.serviceTimer.unref()
    }
    if (app.config.value<boolean>('runner.handleSignals')) this.installSignalHandlers()
    this.loopDone = this.loop()
  }

  /**
   * Stops gracefully: no new claims, then the subclass settles its slots (kill-and-reroute what
   * still runs). Resolves when every slot is settled. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') return this.loopDone
    this.state = 'stopping'
    if (this.serviceTimer) clearInterval(this.serviceTimer)
    this.serviceTimer = null
    this.wake()
    await this.loopDone
    await this.servicePass
    try {
      await this.onStop()
    } finally {
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer)
      if (this.serviceTimer) clearInterval(this.serviceTimer)
      this.heartbeatTimer = null
      this.serviceTimer = null
      await this.unsubscribe?.()
      this.unsubscribe = null
      this.removeSignalHandlers()
      this.state = 'idle'
    }
  }

  /** Wakes the loop: called on routed ids, freed slots and waits. */
  wake(): void {
    this.wakePending = true
    const r = this.wakeResolve
    this.wakeResolve = null
    r?.()
  }

  waitingStart(_invocationId: string): void {}
  waitingEnd(_invocationId: string): void {}

  /** Child runner ids this runner reports alive (process runners); none by default. */
  getActiveChildRunnerIds(): string[] {
    return []
  }

  /** Claims and starts work. Resolves true when it should run again at once (it did work). */
  protected abstract iteration(): Promise<boolean>
  protected async onStart(): Promise<void> {}
  protected async onStop(): Promise<void> {}

  /** KILLED → REROUTED → queued, as the owner. Returns the ids actually rerouted. */
  protected killAndReroute(ids: readonly string[]): Promise<string[]> {
    return killAndReroute(this.app, ids, this.runnerId)
  }

  private async loop(): Promise<void> {
    const idleWakeMs = this.app.config.value<number>('runner.idleWakeMs')
    let errorDelay = 50
    while (this.state === 'running') {
      this.wakePending = false
      let again = false
      try {
        again = await this.iteration()
        errorDelay = 50
      } catch (err) {
        this.app.logger.error({ err, runnerId: this.runnerId }, 'runner iteration failed; retrying')
        await this.waitForWake(errorDelay)
        errorDelay = Math.min(errorDelay * 2, 5000)
        continue
      }
      if (this.state !== 'running') break
      if (!again) await this.waitForWake(idleWakeMs)
    }
  }

  private waitForWake(ms: number): Promise<void> {
    if (this.wakePending || this.state !== 'running') return Promise.resolve()
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
   * Runs global services (recovery, triggers, retention) when this runner's atomic-service slot
   * is open. Never two at once in one runner; errors are logged and the next check tries again.
   * @returns the recovery report, or null when the slot was closed or a pass was already running.
   */
  async runAtomicServices(now = Date.now()): Promise<RecoveryReport | null> {
    if (this.servicePass || !this.runsAtomicServices) return null
    this.servicePass = this.serviceOnce(now).finally(() => {
      this.servicePass = null
    })
    return this.servicePass
  }

  private async serviceOnce(now: number): Promise<RecoveryReport | null> {
    try {
      const cfg = this.app.config
      await this.beat()
      const active = await this.app.backend.orchestrator.getActiveRunners(
        cfg.value<number>('orchestrator.runnerDeadAfterMs'),
      )
      if (
        !isInServiceWindow(
          this.runnerId,
          active,
          cfg.value<number>('orchestrator.atomicServiceIntervalMs'),
          now,
        )
      ) {
        return null
      }
      const report = await recoverInvocations(this.app, this.runnerId).catch((err: unknown) => {
        this.app.logger.error({ err, runnerId: this.runnerId }, 'atomic service (recovery) failed')
        return null
      })
      await this.evaluateTriggers(now)
      await this.sweepRetention(now)
      return report
    } catch (err) {
      this.app.logger.error({ err, runnerId: this.runnerId }, 'atomic service failed')
      return null
    }
  }

  /** The trigger pass of the atomic service; nothing (no round trip) when the app has no triggers. */
  private async evaluateTriggers(now: number): Promise<void> {
    const triggers = this.app.triggers
    if (!triggers?.hasTriggers) return
    try {
      await triggers.evaluate(now)
    } catch (err) {
      this.app.logger.error(
        { err, runnerId: this.runnerId },
        'trigger evaluation failed; the next slot tries again',
      )
    }
  }

  /** The retention pass of the atomic service (see {@link RetentionSweeper}); errors wait for the next slot. */
  private async sweepRetention(now: number): Promise<void> {
    try {
      await this.retention.runIfDue(this.app, this.runnerId, now)
    } catch (err) {
      this.app.logger.error(
        { err, runnerId: this.runnerId },
        'retention sweep failed; the next slot tries again',
      )
    }
  }

  private async beat(): Promise<void> {
    try {
      const { orchestrator } = this.app.backend
      await orchestrator.heartbeat([this.runnerId], this.runsAtomicServices)
      const children = this.getActiveChildRunnerIds()
      if (children.length) await orchestrator.heartbeat(children, false)
    } catch (err) {
      this.app.logger.warn({ err, runnerId: this.runnerId }, 'heartbeat failed')
    }
  }

  private installSignalHandlers(): void {
    this.signalHandler = (signal) => {
      this.app.logger.info({ signal, runnerId: this.runnerId }, 'stopping runner on signal')
      void this.stop()
    }
    process.once('SIGINT', this.signalHandler)
    process.once('SIGTERM', this.signalHandler)
  }

  private removeSignalHandlers(): void {
    if (!this.signalHandler) return
    process.off('SIGINT', this.signalHandler)
    process.off('SIGTERM', this.signalHandler)
    this.signalHandler = null
  }
}
