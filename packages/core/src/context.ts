import { AsyncLocalStorage } from 'node:async_hooks'
import { NencError } from './errors.js'
import type { WorkflowIdentity } from './interfaces/state-backend.js'
import type { Logger } from './logger.js'
import type { ReplayCursor } from './orchestration/replay.js'
import type { NencRuntime } from './runtime.js'

/** What a runner needs to hear from a running task: that it waits, and for how long. */
export interface WaitHooks {
  /** The invocation stops occupying a slot (it stays RUNNING). */
  waitingStart(invocationId: string): void
  /** The invocation occupies its slot again. */
  waitingEnd(invocationId: string): void
}

/** The running invocation, as seen from inside its task through {@link context}. */
export interface InvocationContext {
  readonly invocationId: string
  readonly taskName: string
  readonly runnerId: string
  readonly workflow: WorkflowIdentity
  /** Retries already used (0 on the first attempt). */
  readonly attempt: number
  /** Aborted when the task times out or its runner stops; pass it to fetch, timers, etc. */
  readonly signal: AbortSignal
  readonly logger: Logger
  /**
   * Reports progress (any serializable value up to 4,096 characters serialized, e.g.
   * `{ done: 40, total: 100 }`): stored with the invocation at most every
   * `runner.progressThrottleMs`, the last report always, and pushed to `invocation.onProgress`
   * listeners. Throws a SerializationError for a value it cannot store.
   */
  progress(value: unknown): void
  /** @internal the runner's wait accounting. */
  readonly hooks: WaitHooks
  /** @internal app id, so a nested call knows which app it belongs to. */
  readonly appId: string
  /**
   * @internal the position of the next call in this execution: a run after a stop, a recovery
   * or a retry reuses the children an earlier run created (see `ReplayCursor`). Absent in dev mode.
   */
  readonly replay?: ReplayCursor
  /**
   * @internal the claim attempt this execution runs under (1 on the first claim); fences what
   * the workflow context records. Absent in dev mode, where `attempt + 1` stands for it.
   */
  readonly claimAttempt?: number
  /** @internal the app, for the workflow context's storage. */
  readonly runtime?: NencRuntime
}

export const invocationStorage = new AsyncLocalStorage<InvocationContext>()

/** The running invocation's context, or undefined outside a task. */
export const currentContext = (): InvocationContext | undefined => invocationStorage.getStore()

/** The running invocation's context; throws when called outside a task. */
export function context(): InvocationContext {
  const ctx = invocationStorage.getStore()
  if (!ctx) throw new NencError('RUNNER', 'context() was called outside a running task.')
  return ctx
}
