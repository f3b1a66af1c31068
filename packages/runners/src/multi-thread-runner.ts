import { availableParallelism } from 'node:os'
import type { ChildHandle } from './child-handle.js'
import { ProcessSupervisor, type ProcessSupervisorOptions } from './process-supervisor.js'

export interface MultiThreadRunnerOptions extends ProcessSupervisorOptions {
  /** Children always kept. @default 1 */
  minProcesses?: number
  /** Upper bound of children; 0 = CPU count. @default 0 */
  maxProcesses?: number
  /** Concurrent invocations per child (its ThreadRunner slots); 0 = `runner.maxThreads` or CPU count. @default 0 */
  maxThreads?: number
  /** A child above `minProcesses` idle for this long is stopped. @default 30000 */
  idleProcessMs?: number
  /** Minimum time between two queue-length checks while scaling. @default 250 */
  scaleIntervalMs?: number
}

/**
 * A supervisor of child processes that each run the ThreadRunner loop (slots on one event loop)
 * under a pre-generated id, scaled between `minProcesses` and `maxProcesses` by the queued work
 * (`broker.count()`): many cores, mixed load. Dead children are replaced; children idle past
 * `idleProcessMs` above the minimum are stopped gracefully. Only this parent runs atomic
 * services. `maxParallelSlots = max(minParallelSlots, maxProcesses) × threads per child`.
 * Not memCompatible.
 */
export class MultiThreadRunner extends ProcessSupervisor {
  static override readonly memCompatible = false
  private readonly options: MultiThreadRunnerOptions
  private lastScaleCheck = 0
  private scaleTimer: NodeJS.Timeout | null = null

  constructor(options: MultiThreadRunnerOptions = {}) {
    super(options)
    this.options = options
  }

  get minProcesses(): number {
    return Math.max(1, this.options.minProcesses ?? 1)
  }

  get maxProcesses(): number {
    return Math.max(
      this.minProcesses,
      this.minParallelSlots,
      this.options.maxProcesses || availableParallelism(),
    )
  }

  override get configOverrides(): Record<string, number> {
    const t = this.options.maxThreads
    return t ? { ...super.configOverrides, 'runner.maxThreads': t } : super.configOverrides
  }

  /** Slots of one child (its ThreadRunner's `maxThreads`). */
  get threadsPerProcess(): number {
    return (
      this.options.maxThreads || this.app.config.value<number>('runner.maxThreads') || availableParallelism()
    )
  }

  get maxParallelSlots(): number {
    return this.maxProcesses * this.threadsPerProcess
  }

  private get liveChildren(): ChildHandle[] {
    return [...this.children.values()].filter((c) => !c.exited && !c.stopRequested)
  }

  protected async iteration(): Promise<boolean> {
    let live = this.liveChildren
    while (live.length < this.minProcesses && this.isRunning && !this.spawnBlocked()) {
      this.spawnChild('loop', 'MultiThreadWorker', this.threadsPerProcess)
      live = this.liveChildren
    }
    this.stopIdleChildren(live)
    // A child told to stop is still a process until it has drained and exited: it counts
    // against maxProcesses, or a scale-up right after a scale-down would exceed the maximum.
    const processes = this.getActiveChildRunnerIds().length
    if (processes >= this.maxProcesses || this.spawnBlocked()) return false
    const interval = this.options.scaleIntervalMs ?? 250
    const since = Date.now() - this.lastScaleCheck
    if (since < interval) {
      this.wakeIn(interval - since)
      return false
    }
    this.lastScaleCheck = Date.now()
    const queued = await this.app.backend.broker.count()
    // Children that are still starting will take work soon; count them as capacity.
    const starting = live.filter((c) => !c.ready).length
    const saturated = live.every((c) => !c.ready || c.busy >= this.threadsPerProcess)
    if (queued > 0 && starting === 0 && saturated && this.isRunning) {
      const wanted = Math.ceil(queued / this.threadsPerProcess)
      const add = Math.min(wanted, this.maxProcesses - processes)
      for (let i = 0; i < add; i++) this.spawnChild('loop', 'MultiThreadWorker', this.threadsPerProcess)
    }
    if (queued > 0) this.wakeIn(interval)
    return false
  }

  private stopIdleChildren(live: ChildHandle[]): void {
    const idleMs = this.options.idleProcessMs ?? 30_000
    let extra = live.length - this.minProcesses
    const now = Date.now()
    for (const c of live) {
      if (extra <= 0) break
      if (c.ready && c.busy === 0 && c.owned.size === 0 && now - c.lastBusyAt > idleMs) {
        c.stopRequested = true
        c.send({ type: 'stop' })
        extra--
      }
    }
    if (live.length > this.minProcesses) this.wakeIn(idleMs)
  }

  private wakeIn(ms: number): void {
    if (this.scaleTimer) return
    this.scaleTimer = setTimeout(() => {
      this.scaleTimer = null
      this.wake()
    }, ms)
    this.scaleTimer.unref()
  }

  protected override async onStop(): Promise<void> {
    if (this.scaleTimer) clearTimeout(this.scaleTimer)
    await super.onStop()
  }
}
