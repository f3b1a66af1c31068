import type { Task } from '../task.js'
import type {
  AllContext,
  CronContext,
  EventContext,
  ExceptionContext,
  ResultContext,
  StatusContext,
  WatchedStatus,
} from './contexts.js'
import type { PredicateLike } from './predicates.js'

/** The serializable part of a condition: everything its id is derived from. */
export type ConditionSpec =
  | { kind: 'cron'; expr: string; timezone: string }
  | { kind: 'event'; code: string; equals: Record<string, unknown> | null; predicate: string | null }
  | { kind: 'status'; taskName: string; statuses: WatchedStatus[]; predicate: string | null }
  | { kind: 'result'; taskName: string; predicate: string | null }
  | { kind: 'exception'; taskName: string; errors: string[]; predicate: string | null }

/**
 * A condition as declared: kind-specific inputs that declaration resolves into a
 * {@link ConditionSpec} (it needs the app: predicates, the watched task).
 */
export type DeclaredCondition =
  | { kind: 'cron'; expr: string; timezone: string | undefined }
  | { kind: 'event'; code: string; filter: unknown }
  | { kind: 'status'; task: AnyWatched; statuses: readonly string[]; filter: unknown }
  | { kind: 'result'; task: AnyWatched; filter: unknown }
  | { kind: 'exception'; task: AnyWatched; errors: readonly string[]; filter: unknown }

type AnyWatched = Task<any[], any>

/** What cron does with scheduled times no runner evaluated in time (a pause, an outage). */
export type MissedPolicy = 'skip' | { catchUpWithinMs: number }
/** Whether a trigger run starts while an earlier invocation of the task is still active. */
export type OverlapPolicy = 'allow' | 'skip'

/** Arguments for the triggered task: a fixed list, or a function of what made the trigger fire. */
export type ArgsProvider<P extends unknown[], In> = P | ((input: In) => P)

export interface TriggerOptions<P extends unknown[], In> {
  /** The task's arguments. Required when the task takes any. */
  args?: ArgsProvider<P, In>
  /** @default 'allow' */
  overlap?: OverlapPolicy
}

/** Options without arguments: the trigger then passes none (`Trigger<[]>`). */
export type NoArgs<O> = Omit<O, 'args'> & { args?: undefined }
/** Options with arguments: `P` is inferred from them (or from the task they are declared on). */
export type WithArgs<O extends { args?: unknown }> = O & { args: NonNullable<O['args']> }

/**
 * A trigger: conditions, how they combine, the arguments the task gets. `P` is what it passes to
 * the task (checked against the task's parameters where it is declared); `In` is what its
 * argument provider receives.
 */
export interface Trigger<P extends unknown[] = [], In = unknown> {
  readonly logic: 'and' | 'or'
  readonly conditions: readonly DeclaredCondition[]
  readonly args: ArgsProvider<unknown[], never> | undefined
  readonly overlap: OverlapPolicy
  readonly missed: MissedPolicy
  /** @internal the triggers `allOf` / `anyOf` combined (checked at declaration). */
  readonly combined: readonly Trigger<any, any>[] | undefined
  /** Type only: the arguments this trigger passes. */
  readonly __provides?: P
  /** Type only: what its argument provider receives. */
  readonly __input?: (input: In) => void
  /** The same trigger with other arguments or overlap policy. */
  with<Q extends unknown[] = P>(options: TriggerOptions<Q, In>): Trigger<Q, In>
}

function makeTrigger<P extends unknown[], In>(parts: {
  logic: 'and' | 'or'
  conditions: readonly DeclaredCondition[]
  args: ArgsProvider<unknown[], never> | undefined
  overlap: OverlapPolicy | undefined
  missed: MissedPolicy | undefined
  combined?: readonly Trigger<any, any>[]
}): Trigger<P, In> {
  const t: Trigger<P, In> = {
    logic: parts.logic,
    conditions: parts.conditions,
    args: parts.args,
    overlap: parts.overlap ?? 'allow',
    missed: parts.missed ?? 'skip',
    combined: parts.combined,
    with<Q extends unknown[]>(options: TriggerOptions<Q, In>): Trigger<Q, In> {
      return makeTrigger<Q, In>({
        ...parts,
        args: options.args !== undefined ? (options.args as ArgsProvider<unknown[], never>) : parts.args,
        overlap: options.overlap ?? t.overlap,
      })
    },
  }
  return t
}

function leaf<P extends unknown[], In>(
  condition: DeclaredCondition,
  options: (TriggerOptions<P, In> & { missed?: MissedPolicy }) | undefined,
): Trigger<P, In> {
  return makeTrigger<P, In>({
    logic: 'and',
    conditions: [condition],
    args: options?.args as ArgsProvider<unknown[], never> | undefined,
    overlap: options?.overlap,
    missed: options?.missed,
  })
}

export interface CronOptions<P extends unknown[]> extends TriggerOptions<P, CronContext> {
  /** IANA time zone the expression is read in. @default 'UTC' */
  timezone?: string
  /** @default 'skip' */
  missed?: MissedPolicy
}

/**
 * Fires at every time matching a five-field cron expression (minute hour day month weekday),
 * exactly once per scheduled time across all runners.
 */
export function onCron(expr: string, options?: NoArgs<CronOptions<[]>>): Trigger<[], CronContext>
export function onCron<P extends [] | unknown[]>(
  expr: string,
  options: WithArgs<CronOptions<P>>,
): Trigger<P, CronContext>
export function onCron<P extends [] | unknown[]>(
  expr: string,
  options?: CronOptions<P>,
): Trigger<P, CronContext> {
  return leaf<P, CronContext>({ kind: 'cron', expr, timezone: options?.timezone }, options)
}

export interface EventOptions<E, P extends unknown[]> extends TriggerOptions<P, EventContext<E>> {
  /** Equality on the listed payload keys, or a predicate of the payload. */
  filter?: Partial<E> | PredicateLike<(payload: E) => boolean>
}

/** Fires for each event of `code` emitted with `app.emitEvent` whose payload passes the filter. */
export function onEvent<E = any>(
  code: string,
  options?: NoArgs<EventOptions<E, []>>,
): Trigger<[], EventContext<E>>
export function onEvent<E, P extends [] | unknown[]>(
  code: string,
  options: WithArgs<EventOptions<E, P>>,
): Trigger<P, EventContext<E>>
export function onEvent<E, P extends [] | unknown[]>(
  code: string,
  options?: EventOptions<E, P>,
): Trigger<P, EventContext<E>> {
  return leaf<P, EventContext<E>>({ kind: 'event', code, filter: options?.filter }, options)
}

export interface WatchOptions<P extends unknown[], C> extends TriggerOptions<P, C> {
  /** A predicate of what happened (arguments, result, error). */
  filter?: PredicateLike<(context: C) => boolean>
}

/** Fires each time an invocation of `task` ends an attempt in one of `statuses`. */
export function onStatus<CA extends unknown[], CR>(
  task: Task<CA, CR>,
  statuses?: readonly WatchedStatus[],
  options?: NoArgs<WatchOptions<[], StatusContext<CA>>>,
): Trigger<[], StatusContext<CA>>
export function onStatus<CA extends unknown[], CR, P extends [] | unknown[]>(
  task: Task<CA, CR>,
  statuses: readonly WatchedStatus[],
  options: WithArgs<WatchOptions<P, StatusContext<CA>>>,
): Trigger<P, StatusContext<CA>>
export function onStatus<CA extends unknown[], CR, P extends [] | unknown[]>(
  task: Task<CA, CR>,
  statuses: readonly WatchedStatus[] = ['success'],
  options?: WatchOptions<P, StatusContext<CA>>,
): Trigger<P, StatusContext<CA>> {
  return leaf<P, StatusContext<CA>>(
    { kind: 'status', task: task as AnyWatched, statuses, filter: options?.filter },
    options,
  )
}

/** Fires each time an invocation of `task` succeeds with a result that passes `filter` (any result when omitted). */
export function onResult<CA extends unknown[], CR>(
  task: Task<CA, CR>,
  filter?: PredicateLike<(result: CR) => boolean>,
  options?: NoArgs<TriggerOptions<[], ResultContext<CA, CR>>>,
): Trigger<[], ResultContext<CA, CR>>
export function onResult<CA extends unknown[], CR, P extends [] | unknown[]>(
  task: Task<CA, CR>,
  filter: PredicateLike<(result: CR) => boolean> | undefined,
  options: WithArgs<TriggerOptions<P, ResultContext<CA, CR>>>,
): Trigger<P, ResultContext<CA, CR>>
export function onResult<CA extends unknown[], CR, P extends [] | unknown[]>(
  task: Task<CA, CR>,
  filter?: PredicateLike<(result: CR) => boolean>,
  options?: TriggerOptions<P, ResultContext<CA, CR>>,
): Trigger<P, ResultContext<CA, CR>> {
  return leaf<P, ResultContext<CA, CR>>({ kind: 'result', task: task as AnyWatched, filter }, options)
}

/**
 * Fires each time an invocation of `task` fails (FAILED, retries used up) with an error whose
 * class name is in `errors` (any error when empty).
 */
export function onException<CA extends unknown[], CR>(
  task: Task<CA, CR>,
  errors?: readonly string[],
  options?: NoArgs<WatchOptions<[], ExceptionContext<CA>>>,
): Trigger<[], ExceptionContext<CA>>
export function onException<CA extends unknown[], CR, P extends [] | unknown[]>(
  task: Task<CA, CR>,
  errors: readonly string[],
  options: WithArgs<WatchOptions<P, ExceptionContext<CA>>>,
): Trigger<P, ExceptionContext<CA>>
export function onException<CA extends unknown[], CR, P extends [] | unknown[]>(
  task: Task<CA, CR>,
  errors: readonly string[] = [],
  options?: WatchOptions<P, ExceptionContext<CA>>,
): Trigger<P, ExceptionContext<CA>> {
  return leaf<P, ExceptionContext<CA>>(
    { kind: 'exception', task: task as AnyWatched, errors, filter: options?.filter },
    options,
  )
}

type AnyTrigger = Trigger<any, any>
type InputOf<T> = T extends Trigger<infer _P, infer In> ? In : never

function combine(logic: 'and' | 'or', triggers: readonly AnyTrigger[]) {
  return makeTrigger({
    logic,
    conditions: triggers.flatMap((t) => t.conditions),
    args: undefined,
    overlap: undefined,
    missed: triggers.find((t) => t.missed !== 'skip')?.missed,
    combined: triggers,
  })
}

/**
 * Fires once every condition holds; its argument provider gets one context per condition. Give
 * it arguments with `.with({ args })`. Conditions are single-condition triggers (`onCron`, …).
 */
export function allOf<T extends AnyTrigger[]>(...triggers: T): Trigger<[], AllContext<InputOf<T[number]>>> {
  return combine('and', triggers) as Trigger<[], AllContext<InputOf<T[number]>>>
}

/** Fires once for each condition that holds; its argument provider gets that condition's context. */
export function anyOf<T extends AnyTrigger[]>(...triggers: T): Trigger<[], InputOf<T[number]>> {
  return combine('or', triggers) as Trigger<[], InputOf<T[number]>>
}
