import type { RemoteErrorInfo } from '../errors.js'

/**
 * What made a condition valid, as an argument provider receives it. One type per condition kind;
 * `args` and `result` carry the watched task's own types.
 */
export interface CronContext {
  kind: 'cron'
  /** The scheduled time that fired (ms epoch), not the time it was evaluated. */
  scheduledAt: number
}

export interface EventContext<P = unknown> {
  kind: 'event'
  eventId: string
  code: string
  payload: P
  emittedAt: number
}

export interface StatusContext<A extends unknown[] = unknown[]> {
  kind: 'status'
  invocationId: string
  taskName: string
  status: WatchedStatus
  /** The triggering invocation's arguments. */
  args: A
}

export interface ResultContext<A extends unknown[] = unknown[], R = unknown> {
  kind: 'result'
  invocationId: string
  taskName: string
  args: A
  result: R
}

export interface ExceptionContext<A extends unknown[] = unknown[]> {
  kind: 'exception'
  invocationId: string
  taskName: string
  args: A
  /** The error the task threw, as stored (class name, message, stack). */
  error: RemoteErrorInfo
}

export type ConditionContext = CronContext | EventContext | StatusContext | ResultContext | ExceptionContext

/**
 * The statuses a status condition can watch: the ones core sets when an attempt ends. They are
 * matched where the runner writes them, so watching costs nothing on other transitions.
 */
export const WATCHED_STATUSES = ['success', 'failed', 'retry'] as const
export type WatchedStatus = (typeof WATCHED_STATUSES)[number]

/** What an AND trigger's argument provider receives: one context per condition, in order. */
export interface AllContext<C> {
  kind: 'all'
  contexts: C[]
}
