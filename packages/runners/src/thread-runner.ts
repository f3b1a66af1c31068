import { availableParallelism } from 'node:os'
import { BaseRunner, RunnerError } from '@nenc/core'
import { appModuleOf, resolveAppModulePath } from './app-module.js'
import { ClaimLoop } from './claim-loop.js'
import { WorkerThreadPool } from './worker-thread-pool.js'
import { workerThreadRuntime } from './worker-thread-runtime.js'

/**
 * Runs the functions of CPU-bound tasks in a `worker_threads` pool. Each worker imports the app
 * module by path and calls the task's function by name; arguments and results cross by
 * structured clone. Only the function moves: statuses, results, waits and components stay on
 * the main thread (so memory components still work). Inside such a function `context()` is not
 * available and other tasks cannot be called; a timeout or stop terminates its thread.
 */
export interface WorkerThreadsOptions {
  /**
   * The module that exports the app (path or file URL), imported by every worker.
   * @default the module the app was loaded from by `loadApp` (`nenc runner start --app`)
   */
  appModule?: string | URL
  /** Names of the tasks whose functions run in the pool, or `'all'`. */
  tasks: readonly string[] | 'all'
  /** Worker threads in the pool. @default CPU count */
  size?: number
}

export interface ThreadRunnerOptions {
  /** Lower bound of slots. Config `runner.minParallelSlots`. @default 1 */
  minParallelSlots?: number
  /** Config `runner.minThreads`. @default 1 */
  minThreads?: number
  /** Maximum concurrent invocations; 0 = CPU count. Config `runner.maxThreads`. @default 0 */
  maxThreads?: number
  /**
   * Invocations claimed ahead of free slots: started (RUNNING, owned by this runner) and held in
   * a local queue until a slot frees. Bigger claim and finish batches for short tasks (see the
   * PostgreSQL backend's README); keep it 0 for long tasks, which it would hold back from other
   * runners. A stop gives them back; a killed runner's are recovered as its running ones.
   * Config `runner.prefetch`. @default 0
   */
  prefetch?: number
  /** Runner id (tests, child processes); generated when omitted. */
  runnerId?: string
  /** Offload the functions of CPU-bound tasks to a worker_threads pool. @default undefined (off) */
  workerThreads?: WorkerThreadsOptions
}

/**
 * Runs invocations in this process, each slot an async execution on the event loop (the Node
 * translation of pynenc's ThreadRunner, design §5). memCompatible: every slot shares memory.
 *
 * `maxParallelSlots = max(minParallelSlots, minThreads, maxThreads)`. Each iteration counts the
 * slots that run and are not waiting, claims that many invocations in one round and starts them
 * (one batch → RUNNING). An invocation waiting for results stays RUNNING but does not count
 * against the slots.
 */
export class ThreadRunner extends BaseRunner {
  static override readonly memCompatible = true
  private readonly options: ThreadRunnerOptions
  private loopInstance: ClaimLoop | null = null
  private pool: WorkerThreadPool | null = null

  constructor(options: ThreadRunnerOptions = {}) {
    super(options.runnerId)
    this.options = options
  }

  /** The claim loop, built on first use (the app is bound by then). */
  private get claims(): ClaimLoop {
    if (!this.loopInstance) {
      this.loopInstance = new ClaimLoop({
        app: this.app,
        executorRuntime: this.executorRuntime(),
        runnerId: this.runnerId,
        hooks: this,
        isStopping: () => this.isStopping,
        maxSlots: () => this.maxParallelSlots,
        prefetch: () => this.prefetch,
        wake: () => this.wake(),
      })
    }
    return this.loopInstance
  }

  /** The app, or with `workerThreads` the app whose offloaded task functions run in the pool. */
  private executorRuntime() {
    const wt = this.options.workerThreads
    if (!wt) return this.app
    const appModule = wt.appModule ?? appModuleOf(this.app)
    if (!appModule)
      throw new RunnerError(
        'ThreadRunner workerThreads needs `appModule`: the path of the module exporting the app.',
      )
    this.pool = new WorkerThreadPool(resolveAppModulePath(appModule), wt.size)
    const all = wt.tasks === 'all'
    const names = new Set(all ? [] : wt.tasks)
    return workerThreadRuntime(this.app, this.pool, (name) => all || names.has(name))
  }

  /** Constructor options that beat the config keys they name (reported by `nenc config show`). */
  get configOverrides(): Record<string, number> {
    const o = this.options
    const out: Record<string, number> = {}
    if (o.minParallelSlots !== undefined) out['runner.minParallelSlots'] = o.minParallelSlots
    if (o.minThreads !== undefined) out['runner.minThreads'] = o.minThreads
    if (o.maxThreads !== undefined) out['runner.maxThreads'] = o.maxThreads
    if (o.prefetch !== undefined) out['runner.prefetch'] = o.prefetch
    return out
  }

  /** Started invocations the runner may hold in its local queue beyond its slots. */
  get prefetch(): number {
    return this.options.prefetch ?? this.app.config.value<number>('runner.prefetch')
  }

  get maxParallelSlots(): number {
    const cfg = this.app.config
    const minSlots = this.options.minParallelSlots ?? cfg.value<number>('runner.minParallelSlots')
    const minThreads = this.options.minThreads ?? cfg.value<number>('runner.minThreads')
    const maxThreads = this.options.maxThreads ?? cfg.value<number>('runner.maxThreads')
    return Math.max(minSlots, minThreads, maxThreads || availableParallelism())
  }

  /** Slots executing and not waiting for results. */
  get busySlots(): number {
    return this.loopInstance?.slots.busy ?? 0
  }

  /** Ids of the invocations this runner currently runs (waiting ones included). */
  get runningIds(): string[] {
    return this.loopInstance?.slots.ids ?? []
  }

  /** Ids started here and waiting in the local queue for a slot (`prefetch`). */
  get queuedIds(): string[] {
    return this.loopInstance?.queuedIds ?? []
  }

  override waitingStart(invocationId: string): void {
    if (this.claims.slots.markWaiting(invocationId)) this.wake()
  }

  override waitingEnd(invocationId: string): void {
    this.claims.slots.markResumed(invocationId)
  }

  protected iteration(): Promise<boolean> {
    return this.claims.iteration()
  }

  /** With `workerThreads`, the pool's threads load the app before the first claim. */
  protected override async onStart(): Promise<void> {
    if (!this.options.workerThreads) return
    void this.claims
    await this.pool?.warm()
  }

  /**
   * Claiming has stopped (BaseRunner). Slots waiting for results are moved RUNNING → KILLED →
   * REROUTED at once; the others get `runner.stopGraceMs` to finish here, their outcomes
   * flushed before stop resolves. What still runs after the grace is rerouted while this runner
   * still owns it, then aborted and awaited briefly (see {@link SlotTable.stopGracefully}).
   */
  protected override async onStop(): Promise<void> {
    await this.claims.stop(this.app.config.value<number>('runner.stopGraceMs'))
    await this.pool?.close()
    // A restarted runner builds a fresh pool.
    this.pool = null
    if (this.options.workerThreads) this.loopInstance = null
  }
}
