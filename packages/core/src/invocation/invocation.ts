import type { Unsubscribe } from '../interfaces/component.js'
import type { HistoryEntry } from '../interfaces/orchestrator.js'
import type { InvocationProgress } from '../orchestration/progress.js'
import type { ResultOptions } from '../orchestration/result-waiter.js'
import type { InvocationStatus } from './status.js'

export type { InvocationProgress, ResultOptions }

/**
 * A handle on one invocation. `result()` resolves with the task's return value once a runner
 * finished it, or rejects with a `TaskError`; called inside a running task it frees the caller's
 * slot while it waits. `result({ timeoutMs })` gives up after that long with a
 * `ResultTimeoutError` (the invocation is untouched); without it the wait has no end.
 */
export interface Invocation<R> {
  readonly id: string
  readonly taskName: string
  /**
   * True when an existing invocation was returned instead of a new one: `registrationConcurrency`
   * found one REGISTERED, or a parent running again got the child an earlier run created.
   */
  readonly reused: boolean
  status(): Promise<InvocationStatus>
  result(options?: ResultOptions): Promise<R>
  /** The status records, oldest first. */
  history(): Promise<HistoryEntry[]>
  /** The last progress its task reported (`context().progress(value)`), or null. */
  progress(): Promise<InvocationProgress | null>
  /**
   * Calls `listener` with the current progress and each new report until the returned function
   * is called (pushed where the backend can, else re-read every `orchestrator.progressPollMs`).
   */
  onProgress(listener: (progress: InvocationProgress) => void): Promise<Unsubscribe>
  /**
   * Moves an invocation that has not started running (REGISTERED, a scheduled call waiting for
   * its time, PENDING, RETRY, REROUTED, CONCURRENCY_CONTROLLED) to the final status CANCELED: it
   * never runs, and `result()` rejects with `InvocationCanceledError`. Canceling a canceled
   * invocation again resolves. Once it runs (or ran) the cancel is refused with
   * `CancelRefusedError` and nothing changes.
   */
  cancel(): Promise<void>
}
