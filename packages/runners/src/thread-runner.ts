import { availableParallelism } from 'node:os'
import { BaseRunner, getInvocationsToRun, InvocationExecutor, KILLED, rerouteUnstarted } from '@nenc/core'

export interface ThreadRunnerOptions {
  /** Lower bound of slots. Config `runner.minParallelSlots`. @default 1 */
  minParallelSlots?: number
  /** Config `runner.minThreads`. @default 1 */
  minThreads?: number
  /** Maximum concurrent invocations; 0 = CPU count. Config `runner.maxThreads`. @default 0 */
  maxThreads?: number
  /** Runner id (tests, child processes); generated when omitted. */
  runnerId?: string
}

interface Slot {
  abort: AbortController
  waiting: boolean
  settled: boolean
  done: Promise<void>
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
  private readonly slots = new Map<string, Slot>()
  private executorInstance: InvocationExecutor | null = null
  private waitingCount = 0

  constructor(options: ThreadRunnerOptions = {}) {
    super(options.runnerId)
    this.options = options
  }

  private get executor(): InvocationExecutor {
    this.executorInstance ??= new InvocationExecutor(this.app, this.runnerId, this, () => this.isStopping)
    return this.executorInstance
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
    return this.slots.size - this.waitingCount
  }

  /** Ids of the invocations this runner currently runs (waiting ones included). */
  get runningIds(): string[] {
    return [...this.slots.keys()]
  }

  override waitingStart(invocationId: string): void {
    const slot = this.slots.get(invocationId)
    if (!slot || slot.waiting) return
    slot.waiting = true
    this.waitingCount++
    this.wake()
  }

  override waitingEnd(invocationId: string): void {
    const slot = this.slots.get(invocationId)
    if (!slot || !slot.waiting) return
    slot.waiting = false
    this.waitingCount--
  }

  protected async iteration(): Promise<boolean> {
    const free = this.maxParallelSlots - this.busySlots
    if (free <= 0) return false
    const round = await getInvocationsToRun(this.app, free, this.runnerId)
    if (round.claimed.length === 0) return round.sawQueued
    let started: Awaited<ReturnType<InvocationExecutor['start']>>
    try {
      started = await this.executor.start(round.claimed)
    } catch (err) {
      // A slot that fails to start is rerouted (the seed's behaviour): it is still ours, PENDING.
      this.app.logger.error({ err }, 'could not start claimed invocations; rerouting them')
      await rerouteUnstarted(
        this.app,
        round.claimed.map((c) => c.id),
        this.runnerId,
      ).catch(() => {})
      return false
    }
    for (const inv of started) this.launch(inv)
    return true
  }

  private launch(inv: Parameters<InvocationExecutor['execute']>[0]): void {
    const id = inv.state.id
    const slot: Slot = {
      abort: new AbortController(),
      waiting: false,
      settled: false,
      done: Promise.resolve(),
    }
    this.slots.set(id, slot)
    slot.done = this.executor.execute(inv, slot.abort).finally(() => {
      slot.settled = true
      if (slot.waiting) this.waitingCount--
      this.slots.delete(id)
      this.wake()
    })
  }

  /**
   * Finished slots are flushed first; a slot still running is moved RUNNING → KILLED → REROUTED
   * while this runner still owns it, then aborted and awaited (up to `runner.stopGraceMs` for
   * code that ignores its abort signal).
   */
  protected override async onStop(): Promise<void> {
    await this.executor.finisher.drain()
    const live = [...this.slots.entries()].filter(([, s]) => !s.settled)
    if (live.length) {
      await this.killAndReroute(live.map(([id]) => id)).catch((err) => {
        this.app.logger.error(
          { err },
          'kill-and-reroute on stop failed; recovery will reroute these invocations',
        )
      })
      for (const [, s] of live) s.abort.abort(KILLED)
    }
    const grace = this.app.config.value<number>('runner.stopGraceMs')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all([...this.slots.values()].map((s) => s.done)),
      new Promise<void>((r) => {
        timer = setTimeout(r, grace)
        timer.unref()
      }),
    ])
    if (timer) clearTimeout(timer)
    await this.executor.finisher.drain()
  }
}
