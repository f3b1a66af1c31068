import type { ConcurrencyMode } from './config/schema.js'
import type { InvocationGroup } from './invocation/group.js'
import type { Invocation } from './invocation/invocation.js'
import type { Trigger } from './triggers/conditions.js'

/** An error class, for `retryFor`. */
export type ErrorClass = abstract new (...args: any[]) => Error

/** Options of one task (pynenc's, camelCased, plus `retryBackoffMs` and `timeoutMs`). */
export interface TaskOptions<A extends unknown[] = unknown[]> {
  /** Retries allowed for retriable errors. @default 0 */
  maxRetries?: number
  /** Errors that are retried (core's `RetryError` always is). @default [] */
  retryFor?: readonly ErrorClass[]
  /** Delay before the first retry, doubling each time. @default 0 */
  retryBackoffMs?: number
  /** Upper bound of the retry delay. @default 60000 */
  retryBackoffMaxMs?: number
  /** Abort the task after this many ms (then the retry policy applies). 0 = none. @default 0 */
  timeoutMs?: number
  /** Calls routed per batch by `parallelize`; 0 = one batch. @default 100 */
  parallelBatchSize?: number
  /** At most one PENDING/RUNNING invocation per scope. @default 'disabled' */
  runningConcurrency?: ConcurrencyMode
  /** Reuse a still-REGISTERED invocation of the same scope instead of queueing another. @default 'disabled' */
  registrationConcurrency?: ConcurrencyMode
  /**
   * The `'keys'` scope: a function of the arguments returning the key value, or the argument
   * positions that form the key.
   */
  keys?: ((...args: A) => unknown) | readonly number[]
  /** When running concurrency blocks: true = offer it again later, false = drop it. @default false */
  rerouteOnConcurrencyControl?: boolean
  /** Start a sub-workflow even when called from inside a workflow. @default false */
  forceNewWorkflow?: boolean
  /**
   * The version of this workflow's code. A workflow root records it on its first run; a run
   * again (retry, recovery) under another version fails with `WorkflowVersionError` instead of
   * replaying recorded values into code they do not fit. @default undefined (not recorded)
   */
  version?: string
  /**
   * When the task is called by itself: cron schedules, events, other tasks' statuses, results
   * and errors (`onCron`, `onEvent`, `onStatus`, `onResult`, `onException`, `allOf`, `anyOf`).
   * Each trigger's arguments must fit the task's parameters.
   */
  triggers?: readonly Trigger<NoInfer<A>, any>[]
}

/**
 * When a scheduled call becomes runnable: after `delayMs` from the call, or at `runAt` (a `Date`
 * or ms since epoch). A time in the past runs as soon as a runner is free.
 */
export type ScheduleOptions = { delayMs: number; runAt?: never } | { runAt: Date | number; delayMs?: never }

/** The options a task runs with after config resolution. */
export interface ResolvedTaskOptions {
  maxRetries: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  timeoutMs: number
  parallelBatchSize: number
  runningConcurrency: ConcurrencyMode
  registrationConcurrency: ConcurrencyMode
  rerouteOnConcurrencyControl: boolean
  forceNewWorkflow: boolean
  retryFor: readonly ErrorClass[]
  version: string | undefined
}

/**
 * A callable task: calling it routes an invocation and resolves to its handle; nothing has run
 * yet. Argument and result types are inferred from the function given to `app.task`.
 */
export interface Task<A extends unknown[], R> {
  (...args: A): Promise<Invocation<R>>
  /** The task's name within its app (its identity across processes). */
  readonly taskName: string
  /** `appId.name`. */
  readonly id: string
  /** The function the runner executes. */
  readonly fn: (...args: A) => R | Promise<R>
  readonly options: ResolvedTaskOptions
  /** @internal the key selector of the `'keys'` scope. */
  readonly keySelector: ((...args: A) => unknown) | readonly number[] | undefined
  /** Routes one invocation per argument list, `parallelBatchSize` at a time. */
  parallelize(argsList: Iterable<A>): Promise<InvocationGroup<R>>
  /**
   * A call that becomes runnable later: `task.schedule({ delayMs: 60_000 })(...args)` routes the
   * invocation now (REGISTERED, durable as the backend) and no runner starts it before that time.
   * Cancel it meanwhile with `invocation.cancel()`. Bad input throws `InvalidScheduleError` at
   * once. Dev mode runs it inline at call time, like every dev-mode call.
   */
  schedule(when: ScheduleOptions): (...args: A) => Promise<Invocation<R>>
}

/** A task without its argument and result types, as the registry holds it. */
export type AnyTask = Task<any[], unknown>
