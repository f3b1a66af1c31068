import { availableParallelism } from 'node:os'
import { type ClaimRound, getInvocationsToRun, newRunnerId, rerouteUnstarted } from '@nenc/core'
import type { ChildHandle } from './child-handle.js'
import type { ChildMessage } from './child-protocol.js'
import { ProcessSupervisor, type ProcessSupervisorOptions } from './process-supervisor.js'

export interface ProcessRunnerOptions extends ProcessSupervisorOptions {
  /** Child processes executing at once; 0 = CPU count. @default 0 */
  maxProcesses?: number
}

/**
 * One child process per invocation (`child_process.fork`): isolation and crash containment.
 * The parent claims each invocation under a pre-generated child runner id (whose context names
 * the parent), forks a child that loads the app module, and the child runs exactly that
 * invocation with core's executor under the child id, then exits.
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

  /** Children executing and not waiting for results. */
  get busySlots(): number {
    let n = 0
    for (const c of this.children.values()) if (!c.exited) n += c.owned.size === 0 ? 1 : c.activeCount
    return n
  }

  protected async iteration(): Promise<boolean> {
    const free = this.maxParallelSlots - this.busySlots
    if (free <= 0 || this.spawnBlocked()) return false
    // One claim first: on an empty queue that is the only round trip.
    const first = await this.claimFor(newRunnerId('ProcessRunnerWorker'))
    if (!first.round.claimed.length) return first.round.sawQueued
    const rest = await Promise.all(
      Array.from({ length: free - 1 }, () => this.claimFor(newRunnerId('ProcessRunnerWorker'))),
    )
    for (const { childId, round } of [first, ...rest]) {
      const claimed = round.claimed[0]
      if (!claimed) continue
      if (!this.isRunning) {
        await rerouteUnstarted(this.app, [claimed.id], childId)
        continue
      }
      const child = this.spawnChild('one-shot', 'ProcessRunnerWorker', 1, childId)
      child.owned.set(claimed.id, { id: claimed.id, waiting: false })
      child.assigned = claimed
    }
    return true
  }

  private async claimFor(childId: string): Promise<{ childId: string; round: ClaimRound }> {
    return { childId, round: await getInvocationsToRun(this.app, 1, childId) }
  }

  protected override onChildMessage(child: ChildHandle, m: ChildMessage): void {
    if (m.type === 'ready') {
      if (child.assigned) child.send({ type: 'run', invocation: child.assigned })
      else child.send({ type: 'stop' })
    }
    super.onChildMessage(child, m)
  }
}
