import { availableParallelism } from 'node:os'
import { type ClaimRound, getInvocationsToRun, newRunnerId, rerouteUnstarted } from '@nenc/core'
import type { ChildHandle } from './child-handle.js'
import type { ChildMessage } from './child-protocol.js'
import { ProcessSupervisor, type ProcessSupervisorOptions } from './process-supervisor.js'

export interface ProcessRunnerOptions extends ProcessSupervisorOptions {
  /** Child processes executing at once; 0 = CPU count. @default 0 */
  maxProcesses?: number
  /**
   * Children forked ahead of time that wait, app loaded, for their one invocation: a fork
   * costs hundreds of ms (the app and its backend load), a warm child starts at once. Each
   * still runs exactly one invocation and exits. 0 forks only on demand. @default 1
   */
  warmProcesses?: number
}

const WORKER_CLASS = 'ProcessRunnerWorker'

/**
 * One child process per invocation (`child_process.fork`): isolation and crash containment.
 * The parent claims each invocation under a child runner id (whose context names the parent),
 * hands it to a child that has loaded the app module (a warm one, or one forked for it), and
 * the child runs exactly that invocation with core's executor under its id, then exits.
 *
 * `maxParallelSlots = max(minParallelSlots, maxProcesses || CPU count)`. A child whose task
 * awaits results tells the parent, which stops counting it. A child that dies mid-run has its
 * invocation killed and rerouted by the parent (as the child id, the owner); one that outlives
 * its task's `timeoutMs` is SIGKILLed and the task's retry policy applies.
 * Not memCompatible: children cannot see this process's memory.
 */
export class ProcessRunner extends ProcessSupervisor {
  static override readonly memCompatible = false
  private readonly options: ProcessRunnerOptions

  constructor(options: ProcessRunnerOptions = {}) {
    super(options)
    this.options = options
  }

  get maxParallelSlots(): number {
    return Math.max(this.minParallelSlots, this.options.maxProcesses || availableParallelism())
  }

  private get warmTarget(): number {
    return Math.max(0, this.options.warmProcesses ?? 1)
  }

  /** Children running an invocation that does not wait for results. */
  get busySlots(): number {
    let n = 0
    for (const c of this.children.values()) if (!c.exited && c.assigned) n += c.activeCount
    return n
  }

  private spares(readyOnly: boolean): ChildHandle[] {
    return [...this.children.values()].filter(
      (c) => !c.exited && !c.assigned && !c.stopRequested && (!readyOnly || c.ready),
    )
  }

  protected async iteration(): Promise<boolean> {
    try {
      return await this.claimAndRun()
    } finally {
      this.replenish()
    }
  }

  private async claimAndRun(): Promise<boolean> {
    const free = this.maxParallelSlots - this.busySlots
    if (free <= 0 || this.spawnBlocked()) return false
    // Warm children first (ready ones before those still loading, which are never slower than
    // a fresh fork), then fresh ids forked for the claim.
    const warm = this.spares(false)
      .sort((a, b) => Number(b.ready) - Number(a.ready))
      .slice(0, free)
    const ids = Array.from({ length: free }, (_, i) => warm[i]?.runnerId ?? newRunnerId(WORKER_CLASS))
    // One claim first: on an empty queue that is the only round trip.
    const first = await this.claimFor(ids[0]!)
    if (!first.round.claimed.length) return first.round.sawQueued
    const rest = await Promise.all(ids.slice(1).map((id) => this.claimFor(id)))
    for (const { childId, round } of [first, ...rest]) {
      const claimed = round.claimed[0]?.state
      if (!claimed) continue
      if (!this.isRunning) {
        await rerouteUnstarted(this.app, [claimed.id], childId, () => claimed.attempt)
        continue
      }
      const child = this.children.get(childId) ?? this.spawnChild('one-shot', WORKER_CLASS, 1, childId)
      child.owned.set(claimed.id, { id: claimed.id, waiting: false })
      child.assigned = claimed
      if (child.ready) child.send({ type: 'run', invocation: claimed })
    }
    return true
  }

  private replenish(): void {
    let missing = this.warmTarget - this.spares(false).length
    while (missing-- > 0 && this.isRunning && !this.spawnBlocked())
      this.spawnChild('one-shot', WORKER_CLASS, 1)
  }

  private async claimFor(childId: string): Promise<{ childId: string; round: ClaimRound }> {
    return { childId, round: await getInvocationsToRun(this.app, 1, childId) }
  }

  protected override onChildMessage(child: ChildHandle, m: ChildMessage): void {
    if (m.type === 'ready') {
      if (child.assigned) child.send({ type: 'run', invocation: child.assigned })
      // A warm child is ready: there may be queued work for it.
      else this.wake()
    }
    super.onChildMessage(child, m)
  }
}
