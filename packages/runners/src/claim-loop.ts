import {
  type ClaimBatch,
  type ClaimedInvocation,
  getInvocationsToRun,
  InvocationExecutor,
  killAndReroute,
  type NencRuntime,
  rerouteUnstarted,
  type StartedInvocation,
  settleUnclaimed,
  type WaitHooks,
} from '@nenc/core'
import { SlotTable } from './slot-table.js'

export interface ClaimLoopOptions {
  /** The app the executor runs on (ThreadRunner's worker-threads view of it, if any). */
  executorRuntime: NencRuntime
  /** The app claims and reroutes go through. */
  app: NencRuntime
  runnerId: string
  hooks: WaitHooks
  isStopping: () => boolean
  /** Slots that may execute at once (waiting ones not counted). */
  maxSlots: () => number
  /**
   * Started invocations the loop may hold beyond its slots, each waiting here for a slot (a local
   * queue, as graphile-worker's `localQueue`): claims and finish steps then move bigger batches.
   * @default 0
   */
  prefetch?: () => number
  /** Something changed that may let the loop claim again (a slot freed, a batch written). */
  wake: () => void
  /** Supervised children tell their parent what they own; ThreadRunner leaves these out. */
  onClaimed?: (ids: string[]) => void
  onStarted?: (started: StartedInvocation[]) => void
  /** The runner no longer owns these (ended, dropped at start, or rerouted). */
  onEnded?: (ids: string[]) => void
}

/**
 * The one claim loop of every runner that executes invocations in its own event loop
 * (ThreadRunner and the supervised children's WorkerLoop). Each iteration claims as many
 * invocations as slots are free — blocking control first, then the queue — starts them
 * (PENDING → RUNNING, fenced by attempt) and launches each in a slot. When a batch of ends is
 * written, the same finish step claims the runner's next invocations ({@link FusedSteps.finish});
 * those are started at once, held in `reserved` so the loop does not claim their slots twice.
 * Claimed invocations are never parked on the backend side: what cannot be started is given
 * back (REROUTED and queued again) by this runner.
 */
export class ClaimLoop {
  readonly slots = new SlotTable()
  readonly executor: InvocationExecutor
  /** Claimed by a finish step and being started: their slots are taken. */
  private reserved = 0
  /**
   * Started (RUNNING, this runner's, fenced by attempt) and waiting for a slot, oldest first:
   * the prefetched local queue. A kill -9 leaves them RUNNING under a dead runner, which recovery
   * reroutes; a stop gives them back before the slots stop.
   */
  private queued: StartedInvocation[] = []
  private queuedHead = 0
  /** Claimed ids whose start and give-back both failed (backend down): retried each iteration. */
  private unstarted: ClaimedInvocation[] = []
  /** Starts of claims handed over by finish steps, awaited on stop. */
  private readonly handovers = new Set<Promise<void>>()
  /** A claim step failed: it may have claimed (and started) ids whose reply was lost. */
  private auditDue = false
  /** While auditing, finish steps claim nothing (what they claimed would look orphaned). */
  private auditing = false

  constructor(private readonly o: ClaimLoopOptions) {
    this.executor = new InvocationExecutor(o.executorRuntime, o.runnerId, o.hooks, o.isStopping)
    this.executor.finisher.claimRoom = () => (this.auditing ? 0 : this.room(0))
    this.executor.finisher.onWriteFailed = () => {
      this.auditDue = true
    }
    // What this loop claims it starts at once: claim steps move it on to RUNNING themselves.
    this.executor.finisher.startClaims = true
    this.executor.finisher.onWritten = (next) => {
      this.handOver(next)
      o.wake()
    }
  }

  /**
   * How many invocations a claim may take: free slots plus the local queue's free room;
   * `pendingWrites` counts ends not yet written as still busy.
   */
  private room(pendingWrites: number): number {
    // The local queue counts as slots, for the backpressure of unwritten ends too.
    const prefetch = Math.max(0, Math.floor(this.o.prefetch?.() ?? 0))
    return (
      this.slots.free(this.o.maxSlots() + prefetch, pendingWrites) -
      this.queuedCount -
      this.reserved -
      this.unstarted.length
    )
  }

  /** Started invocations waiting in the local queue for a slot. */
  get queuedCount(): number {
    return this.queued.length - this.queuedHead
  }

  /** Ids of the started invocations waiting in the local queue. */
  get queuedIds(): string[] {
    return this.queued.slice(this.queuedHead).map((inv) => inv.state.id)
  }

  /** Launches queued invocations while slots are free (not once stopping: stop gives them back). */
  private pump(): void {
    const max = this.o.maxSlots()
    while (this.queuedHead < this.queued.length && this.slots.busy < max && !this.o.isStopping()) {
      const inv = this.queued[this.queuedHead]!
      this.queued[this.queuedHead++] = undefined as unknown as StartedInvocation
      this.launchNow(inv)
    }
    if (this.queuedHead === this.queued.length) {
      this.queued = []
      this.queuedHead = 0
    }
  }

  /** Empties the local queue, returning what it held. */
  private takeQueued(): StartedInvocation[] {
    const left = this.queued.slice(this.queuedHead)
    this.queued = []
    this.queuedHead = 0
    return left
  }

  /** One claim round. True when it may be worth another round at once. */
  async iteration(): Promise<boolean> {
    if (this.unstarted.length) {
      // Claimed earlier but never started (the backend failed mid-start): give them back first.
      const ids = this.unstarted.map((c) => c.state.id)
      await rerouteUnstarted(this.o.app, ids, this.o.runnerId, this.attemptIn(this.unstarted))
      this.unstarted = []
      this.o.onEnded?.(ids)
    }
    if (this.auditDue) await this.audit()
    this.pump()
    const free = this.room(this.executor.finisher.pending)
    if (free <= 0) return false
    let round: Awaited<ReturnType<typeof getInvocationsToRun>>
    try {
      round = await getInvocationsToRun(this.o.app, free, this.o.runnerId, true)
    } catch (err) {
      this.auditDue = true
      throw err
    }
    if (round.claimed.length === 0) return round.sawQueued
    await this.startClaimed(round.claimed)
    return true
  }

  /**
   * Gives back invocations this runner owns but does not know of. A claim step whose reply is lost
   * (the connection dropped after the server applied it) leaves its claims PENDING or RUNNING
   * under this live, heartbeating runner: PENDING recovery would find the first after
   * `maxPendingMs`, nothing the second. So after a failed claim step the loop lists the app's
   * PENDING and RUNNING invocations once, and reroutes (fenced by attempt) those owned by its id
   * that are in no slot. Finish steps claim nothing meanwhile, so nothing it audits is in flight.
   */
  private async audit(): Promise<void> {
    this.auditing = true
    try {
      await this.executor.finisher.drain()
      await Promise.all([...this.handovers])
      const { orchestrator } = this.o.app.backend
      const ids = await orchestrator.listInvocations({ statuses: ['pending', 'running'], limit: 100_000 })
      const known = new Set([...this.slots.ids, ...this.queuedIds, ...this.unstarted.map((c) => c.state.id)])
      const states = ids.length ? await orchestrator.getStates(ids.filter((id) => !known.has(id))) : []
      const orphans = states.filter((st) => st !== null && st.owner === this.o.runnerId)
      if (orphans.length) {
        this.o.app.logger.warn(
          { count: orphans.length, runnerId: this.o.runnerId },
          'giving back invocations claimed by a step whose reply was lost',
        )
        const attempts = new Map(orphans.map((st) => [st!.id, st!.attempt]))
        await rerouteUnstarted(this.o.app, [...attempts.keys()], this.o.runnerId, (id) => attempts.get(id))
      }
      this.auditDue = false
    } finally {
      this.auditing = false
    }
  }

  /** Claims made by a finish step: settle what was not claimed, start the rest. */
  private handOver(next: ClaimBatch): void {
    if (next.claimed.length === 0 && next.unclaimed.length === 0) return
    const n = next.claimed.length
    this.reserved += n
    const p = (async () => {
      try {
        await settleUnclaimed(this.o.app, next.unclaimed)
      } catch (err) {
        // Recovery requeues what is left CONCURRENCY_CONTROLLED (its stranded step).
        this.o.app.logger.error({ err }, 'could not reroute concurrency-blocked invocations')
      }
      try {
        if (n) await this.startClaimed(next.claimed)
      } finally {
        this.reserved -= n
      }
    })()
    this.handovers.add(p)
    void p.finally(() => {
      this.handovers.delete(p)
      this.o.wake()
    })
  }

  /** Starts claimed invocations and launches each in a slot; gives back what cannot start. */
  private async startClaimed(claimed: ClaimedInvocation[]): Promise<void> {
    const { app } = this.o
    const ids = claimed.map((c) => c.state.id)
    this.o.onClaimed?.(ids)
    if (this.o.isStopping()) {
      await this.giveBack(claimed)
      return
    }
    let started: StartedInvocation[]
    try {
      started = await this.executor.start(claimed)
    } catch (err) {
      app.logger.error({ err }, 'could not start claimed invocations; rerouting them')
      await this.giveBack(claimed)
      return
    }
    if (started.length < ids.length) {
      // Some starts were refused (only then: a Set per batch is not free).
      const startedIds = new Set(started.map((s) => s.state.id))
      const dropped = ids.filter((id) => !startedIds.has(id))
      if (dropped.length) this.o.onEnded?.(dropped)
    }
    if (started.length) this.o.onStarted?.(started)
    for (const inv of started) this.launch(inv)
  }

  /** PENDING → REROUTED (or KILLED → REROUTED when the start did land) for claims not started. */
  private async giveBack(claimed: ClaimedInvocation[]): Promise<void> {
    const ids = claimed.map((c) => c.state.id)
    try {
      await rerouteUnstarted(this.o.app, ids, this.o.runnerId, this.attemptIn(claimed))
      this.o.onEnded?.(ids)
    } catch {
      this.unstarted.push(...claimed) // still ours: retried by the next iteration
    }
  }

  /** Runs a started invocation in a slot, or queues it locally while every slot is busy. */
  private launch(inv: StartedInvocation): void {
    this.attempts.set(inv.state.id, inv.state.attempt)
    if (this.queuedCount > 0 || this.slots.busy >= this.o.maxSlots()) this.queued.push(inv)
    else this.launchNow(inv)
  }

  private launchNow(inv: StartedInvocation): void {
    const id = inv.state.id
    this.slots.launch(
      id,
      (abort) => this.executor.execute(inv, abort),
      (killed) => {
        this.attempts.delete(id)
        // A killed slot was rerouted by stop(), which reports it.
        if (!killed) this.o.onEnded?.([id])
        this.pump()
        this.o.wake()
      },
    )
  }

  /** Attempt of each id launched or queued here, for fencing the reroute on stop. */
  private readonly attempts = new Map<string, number>()

  private attemptIn(claimed: readonly ClaimedInvocation[]): (id: string) => number | undefined {
    const m = new Map(claimed.map((c) => [c.state.id, c.state.attempt]))
    return (id) => m.get(id)
  }

  /**
   * Claiming has stopped. Starts handed over by finish steps complete (or are given back), then
   * what runs stops the graceful way ({@link SlotTable.stopGracefully}): waiting slots are
   * rerouted at once, the others get `graceMs` to finish here, and what still runs then is moved
   * RUNNING → KILLED → REROUTED, fenced by its attempt, while this runner still owns it.
   * Outcomes written during the grace are flushed before it resolves.
   */
  async stop(graceMs: number): Promise<void> {
    await this.executor.finisher.drain()
    await Promise.all([...this.handovers])
    if (this.unstarted.length) {
      const left = this.unstarted
      this.unstarted = []
      await rerouteUnstarted(
        this.o.app,
        left.map((c) => c.state.id),
        this.o.runnerId,
        this.attemptIn(left),
      ).catch((err) => {
        this.o.app.logger.error(
          { err },
          'could not give back unstarted invocations; recovery will reroute them',
        )
      })
    }
    await this.giveBackQueued()
    await this.slots.stopGracefully(graceMs, async (ids) => {
      try {
        await killAndReroute(this.o.app, ids, this.o.runnerId, (id) => this.attempts.get(id))
        this.o.onEnded?.(ids)
      } catch (err) {
        this.o.app.logger.error(
          { err },
          'kill-and-reroute on stop failed; recovery will reroute these invocations',
        )
      }
    })
    await this.executor.finisher.drain()
    await Promise.all([...this.handovers])
    // Started by handovers that landed during the grace: never run here, given back too.
    await this.giveBackQueued()
  }

  /**
   * The local queue's invocations were started but never ran: RUNNING → KILLED → REROUTED,
   * fenced by their attempt, while this runner still owns them (another runner runs them once).
   */
  private async giveBackQueued(): Promise<void> {
    const left = this.takeQueued()
    if (left.length === 0) return
    const ids = left.map((inv) => inv.state.id)
    try {
      await killAndReroute(this.o.app, ids, this.o.runnerId, (id) => this.attempts.get(id))
      for (const id of ids) this.attempts.delete(id)
      this.o.onEnded?.(ids)
    } catch (err) {
      this.o.app.logger.error(
        { err, count: ids.length },
        'could not give back prefetched invocations; recovery will reroute them',
      )
    }
  }
}
