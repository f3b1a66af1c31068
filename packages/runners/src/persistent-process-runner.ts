import { availableParallelism } from 'node:os'
import { ProcessSupervisor, type ProcessSupervisorOptions } from './process-supervisor.js'

export interface PersistentProcessRunnerOptions extends ProcessSupervisorOptions {
  /** Long-lived children; 0 = CPU count. Each runs one invocation at a time. @default 0 */
  numProcesses?: number
}

/**
 * A fixed pool of long-lived child processes, each pulling invocations with its own claim
 * loop (pushed wake-ups, no busy polling): CPU-bound throughput without a fork per task.
 * `maxParallelSlots = numProcesses = max(minParallelSlots, numProcesses || CPU count)`.
 *
 * Each child executes one invocation at a time, but an invocation that awaits results does not
 * hold it: the child claims the next one meanwhile, so a pool whose children all run parents
 * waiting on queued children still finishes. The supervisor replaces children that die (after
 * rerouting what they owned). Not memCompatible.
 */
export class PersistentProcessRunner extends ProcessSupervisor {
  static override readonly memCompatible = false
  private readonly options: PersistentProcessRunnerOptions

  constructor(options: PersistentProcessRunnerOptions = {}) {
    super(options)
    this.options = options
  }

  /** Children kept alive. */
  get numProcesses(): number {
    return Math.max(this.minParallelSlots, this.options.numProcesses || availableParallelism())
  }

  get maxParallelSlots(): number {
    return this.numProcesses
  }

  /** Replaces missing children (at start, and after a child died). */
  protected async iteration(): Promise<boolean> {
    let missing = this.numProcesses - this.children.size
    while (missing-- > 0 && this.isRunning && !this.spawnBlocked()) {
      this.spawnChild('loop', 'PersistentProcessWorker', 1)
    }
    return false
  }
}
