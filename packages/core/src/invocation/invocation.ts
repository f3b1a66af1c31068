import type { HistoryEntry } from '../interfaces/orchestrator.js'
import type { InvocationStatus } from './status.js'

/**
 * A handle on one invocation. `result()` resolves with the task's return value once a runner
 * finished it, or rejects with a `TaskError`; called inside a running task it frees the caller's
 * slot while it waits.
 */
export interface Invocation<R> {
  readonly id: string
  readonly taskName: string
  /** True when `registrationConcurrency` reused an existing REGISTERED invocation. */
  readonly reused: boolean
  status(): Promise<InvocationStatus>
  result(): Promise<R>
  /** The status records, oldest first. */
  history(): Promise<HistoryEntry[]>
}
