import { InvocationNotFoundError } from '../errors.js'
import type { Unsubscribe } from '../interfaces/component.js'
import type { HistoryEntry } from '../interfaces/orchestrator.js'
import { cancelInvocation } from '../orchestration/cancel.js'
import { decodeProgress, type InvocationProgress, watchProgress } from '../orchestration/progress.js'
import type { ResultOptions } from '../orchestration/result-waiter.js'
import { readOutcomes, waitFinal } from '../orchestration/waiting.js'
import type { NencRuntime } from '../runtime.js'
import type { Invocation } from './invocation.js'
import type { InvocationStatus } from './status.js'

/** A handle on an invocation stored in the app's backend. */
export class DistributedInvocation<R> implements Invocation<R> {
  constructor(
    private readonly rt: NencRuntime,
    readonly id: string,
    readonly taskName: string,
    readonly reused = false,
  ) {}

  async status(): Promise<InvocationStatus> {
    const [state] = await this.rt.backend.orchestrator.getStates([this.id])
    if (!state) throw new InvocationNotFoundError(this.id)
    return state.status
  }

  async result(options: ResultOptions = {}): Promise<R> {
    await waitFinal(this.rt, [this.id], options)
    const [settled] = await readOutcomes(this.rt, [this.id], [this.taskName])
    if (settled!.status === 'rejected') throw settled!.reason
    return settled!.value as R
  }

  history(): Promise<HistoryEntry[]> {
    return this.rt.backend.orchestrator.getHistory(this.id)
  }

  async progress(): Promise<InvocationProgress | null> {
    await this.rt.ready()
    const [record] = await this.rt.backend.stateBackend.getProgress([this.id])
    return record ? decodeProgress(this.rt, record) : null
  }

  onProgress(listener: (progress: InvocationProgress) => void): Promise<Unsubscribe> {
    return watchProgress(this.rt, this.id, listener)
  }

  cancel(): Promise<void> {
    return cancelInvocation(this.rt, this.id)
  }

  toJSON(): { id: string; taskName: string } {
    return { id: this.id, taskName: this.taskName }
  }
}
