import { hostname } from 'node:os'
import {
  BaseRunner,
  encodeError,
  FinishBatcher,
  killAndReroute,
  newRunnerId,
  RunnerError,
  TaskTimeoutError,
} from '@nenc/core'
import { appModuleOf, resolveAppModulePath } from './app-module.js'
import { ChildHandle } from './child-handle.js'
import type { ChildMessage, ChildSpec } from './child-protocol.js'
import { KILL_JOIN_MS } from './slot-table.js'

/**
 * On stop, how long past `runner.stopGraceMs` a child may take to reroute what still runs, join
 * its killed slots ({@link KILL_JOIN_MS}) and exit before it is SIGKILLed.
 */
const STOP_EXIT_MARGIN_MS = KILL_JOIN_MS + 3000

/** Options every process runner shares. */
export interface ProcessSupervisorOptions {
  /**
   * The module that exports the app (path or file URL); children import it. Defaults to the
   * module the app was loaded from by `loadApp` (`nenc runner start --app` does that); a runner
   * started any other way needs it.
   */
  appModule?: string | URL
  /** Lower bound of the slots. Config `runner.minParallelSlots`. @default 1 */
  minParallelSlots?: number
  /** Runner id (tests); generated when omitted. */
  runnerId?: string
  /** Extra Node flags for children. @default [] */
  execArgv?: readonly string[]
  /**
   * How long past a task's `timeoutMs` the parent waits before it SIGKILLs the child (the
   * child's own timer usually ends a cooperative task first, with a clean outcome). @default 250
   */
  killGraceMs?: number
}

/**
 * Shared supervisor of forked children (ProcessRunner, PersistentProcessRunner,
 * MultiThreadRunner): forks children with pre-generated ids whose runner contexts name this
 * runner, reports them alive through {@link getActiveChildRunnerIds}, SIGKILLs a child whose
 * invocation outlives its timeout, and cleans up after a child that died: invocations it timed
 * out follow their retry policy, every other invocation it owned is killed and rerouted as the
 * child's id (the owner). Only this parent runs atomic services; children never do.
 */
export abstract class ProcessSupervisor extends BaseRunner {
  static override readonly memCompatible: boolean = false
  protected readonly children = new Map<string, ChildHandle>()
  protected readonly supervisorOptions: ProcessSupervisorOptions
  private readonly cleanups = new Set<Promise<void>>()
  /** Children that died before becoming ready, in a row: spawning backs off. */
  private crashStreak = 0
  private spawnBlockedUntil = 0
  private spawnWakeTimer: NodeJS.Timeout | null = null

  constructor(options: ProcessSupervisorOptions) {
    super(options.runnerId)
    this.supervisorOptions = options
  }

  /** The app module path children load. */
  protected get appModulePath(): string {
    const m = this.supervisorOptions.appModule ?? appModuleOf(this.app)
    if (!m) {
      throw new RunnerError(
        `${this.runnerClass} needs the app's module path to start children: pass { appModule: './app.ts' } ` +
          '(or use `nenc runner start --app ./app.ts`).',
      )
    }
    return resolveAppModulePath(m)
  }

  /** Constructor options that beat the config keys they name (reported by `nenc config show`). */
  get configOverrides(): Record<string, number> {
    const m = this.supervisorOptions.minParallelSlots
    return m === undefined ? {} : { 'runner.minParallelSlots': m }
  }

  protected get minParallelSlots(): number {
    return this.supervisorOptions.minParallelSlots ?? this.app.config.value<number>('runner.minParallelSlots')
  }

  /** Runner ids of the children that are alive (reported in this runner's heartbeats). */
  override getActiveChildRunnerIds(): string[] {
    const ids: string[] = []
    for (const c of this.children.values()) if (!c.exited) ids.push(c.runnerId)
    return ids
  }

  /** Alive children (tests and the CLI read pids from here). */
  get childProcesses(): { runnerId: string; pid: number | undefined; owned: string[] }[] {
    return [...this.children.values()].map((c) => ({
      runnerId: c.runnerId,
      pid: c.pid,
      owned: [...c.owned.keys()],
    }))
  }

  protected override async onStart(): Promise<void> {
    // Fail at start, not in the first child, when the module path is missing.
    void this.appModulePath
  }

  /** True while a crash loop (children dying before ready) holds spawning back. */
  protected spawnBlocked(): boolean {
    const wait = this.spawnBlockedUntil - Date.now()
    if (wait <= 0) return false
    if (!this.spawnWakeTimer) {
      this.spawnWakeTimer = setTimeout(() => {
        this.spawnWakeTimer = null
        this.wake()
      }, wait)
      this.spawnWakeTimer.unref()
    }
    return true
  }

  protected spawnChild(
    kind: ChildSpec['kind'],
    runnerClass: string,
    slots: number,
    runnerId?: string,
  ): ChildHandle {
    const spec: ChildSpec = {
      kind,
      runnerId: runnerId ?? newRunnerId(runnerClass),
      runnerClass,
      parentRunnerId: this.runnerId,
      appModule: this.appModulePath,
      slots,
    }
    const child = new ChildHandle(spec, {
      execArgv: this.supervisorOptions.execArgv,
      onMessage: (c, m) => this.onChildMessage(c, m),
      onExit: (c) => this.onChildExit(c),
    })
    this.children.set(child.runnerId, child)
    // Stored here too (the child stores it again on start): an invocation claimed under the
    // child's id must name a known runner from the first moment.
    this.app.backend.stateBackend
      .storeRunnerContext({
        runnerId: spec.runnerId,
        runnerClass: spec.runnerClass,
        parentRunnerId: this.runnerId,
        pid: child.pid ?? 0,
        hostname: hostname(),
        startedAt: Date.now(),
      })
      .catch((err) =>
        this.app.logger.warn({ err, child: spec.runnerId }, 'could not store a child runner context'),
      )
    return child
  }

  /** Subclasses extend it (call super). */
  protected onChildMessage(child: ChildHandle, m: ChildMessage): void {
    if (m.type === 'ready') this.crashStreak = 0
    if (m.type === 'started') for (const item of m.items) this.armTimeout(child, item.id)
    if (m.type === 'fatal')
      this.app.logger.error({ child: child.runnerId, reason: m.message }, 'child cannot work')
    if (m.type === 'ended' || m.type === 'waiting' || m.type === 'load') this.wake()
  }

  private armTimeout(child: ChildHandle, id: string): void {
    const o = child.owned.get(id)
    if (!o?.timeoutMs) return
    const grace = this.supervisorOptions.killGraceMs ?? 250
    o.timer = setTimeout(() => {
      if (child.exited || !child.owned.has(id)) return
      this.app.logger.warn(
        {
          child: child.runnerId,
          invocationId: id,
          task: o.taskName,
          retries: o.retries,
          timeoutMs: o.timeoutMs,
        },
        'task exceeded its timeout; killing its process',
      )
      child.timedOut.add(id)
      child.kill('SIGKILL')
    }, o.timeoutMs + grace)
    o.timer.unref()
  }

  private onChildExit(child: ChildHandle): void {
    this.children.delete(child.runnerId)
    const unexpected = !child.stopRequested && (child.exitCode !== 0 || child.owned.size > 0)
    if (!child.ready) {
      this.crashStreak++
      this.spawnBlockedUntil = Date.now() + Math.min(100 * 2 ** this.crashStreak, 10_000)
    }
    if (unexpected && child.timedOut.size === 0) {
      this.app.logger.warn(
        { child: child.runnerId, code: child.exitCode, signal: child.exitSignal, owned: child.owned.size },
        'child process died; rerouting its invocations',
      )
    }
    if (child.owned.size > 0) {
      const p = this.cleanUpAfter(child).catch((err) => {
        this.app.logger.error(
          { err, child: child.runnerId },
          'could not reroute the invocations of a dead child; recovery will',
        )
      })
      this.cleanups.add(p)
      void p.finally(() => this.cleanups.delete(p))
    }
    this.wake()
  }

  /** Timed-out invocations follow their retry policy; the rest are killed and rerouted. */
  private async cleanUpAfter(child: ChildHandle): Promise<void> {
    const timedOut = [...child.owned.values()].filter((o) => child.timedOut.has(o.id))
    const others = [...child.owned.keys()].filter((id) => !child.timedOut.has(id))
    if (others.length) await killAndReroute(this.app, others, child.runnerId)
    if (timedOut.length === 0) return
    const states = await this.app.backend.orchestrator.getStates(timedOut.map((o) => o.id))
    const finisher = new FinishBatcher(this.app, child.runnerId)
    const ends: Promise<void>[] = []
    timedOut.forEach((o, i) => {
      const st = states[i]
      // Only while the dead child still owns it executing; anything else already moved on.
      if (!st || st.owner !== child.runnerId || !['running', 'paused', 'resumed'].includes(st.status)) return
      const task = this.app.getTask(o.taskName ?? '')
      const timeoutMs = o.timeoutMs ?? 0
      const maxRetries = task?.options.maxRetries ?? 0
      if (st.retries < maxRetries) {
        const { retryBackoffMs = 0, retryBackoffMaxMs = 60_000 } = task?.options ?? {}
        const delayMs = retryBackoffMs > 0 ? Math.min(retryBackoffMs * 2 ** st.retries, retryBackoffMaxMs) : 0
        ends.push(finisher.finish({ id: o.id, attempt: st.attempt, to: 'retry', delayMs }))
      } else {
        const err = new TaskTimeoutError(o.taskName ?? '(unknown task)', timeoutMs)
        ends.push(
          finisher.finish({
            id: o.id,
            attempt: st.attempt,
            to: 'failed',
            outcome: { kind: 'error', value: encodeError(err) },
          }),
        )
      }
    })
    await Promise.all(ends)
  }

  /**
   * Asks every child to stop. Each stops claiming, lets what runs finish within
   * `runner.stopGraceMs` (a waiting invocation is rerouted at once) and kills and reroutes the
   * rest as the owner, then exits. A child that has not exited by the grace plus
   * {@link STOP_EXIT_MARGIN_MS} is SIGKILLed and what it owned is rerouted here.
   */
  protected override async onStop(): Promise<void> {
    if (this.spawnWakeTimer) clearTimeout(this.spawnWakeTimer)
    const live = [...this.children.values()]
    for (const c of live) {
      c.stopRequested = true
      c.send({ type: 'stop' })
    }
    const grace = this.app.config.value<number>('runner.stopGraceMs')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(live.map((c) => c.exitPromise)),
      new Promise<void>((r) => {
        timer = setTimeout(r, grace + STOP_EXIT_MARGIN_MS)
      }),
    ])
    if (timer) clearTimeout(timer)
    for (const c of live) c.kill('SIGKILL')
    await Promise.all(live.map((c) => c.exitPromise))
    while (this.cleanups.size) await Promise.all([...this.cleanups])
  }
}
