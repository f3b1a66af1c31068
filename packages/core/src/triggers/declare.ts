import { TriggerDefinitionError } from '../errors.js'
import { sha256 } from '../ids.js'
import type { TriggerDefinition } from '../interfaces/trigger-store.js'
import type { Serializer } from '../serializer/serializer.js'
import type { AnyTask } from '../task.js'
import { canonicalJson } from './canonical-json.js'
import type {
  ArgsProvider,
  ConditionSpec,
  DeclaredCondition,
  MissedPolicy,
  OverlapPolicy,
  Trigger,
} from './conditions.js'
import { WATCHED_STATUSES, type WatchedStatus } from './contexts.js'
import { cronProblem, timeZoneProblem } from './cron.js'
import { isNamedPredicate, type PredicateRegistry, predicateEntry } from './predicates.js'

/** A condition with its content-derived id. */
export interface ResolvedCondition {
  id: string
  spec: ConditionSpec
}

/** A trigger checked at declaration: what the engine evaluates and the store lists. */
export interface ResolvedTrigger {
  id: string
  taskName: string
  logic: 'and' | 'or'
  /** What the argument provider receives: one context (single, any) or all of them (all). */
  shape: 'single' | 'all' | 'any'
  conditions: ResolvedCondition[]
  args: ArgsProvider<unknown[], never> | undefined
  overlap: OverlapPolicy
  missed: MissedPolicy
  definition: TriggerDefinition
}

/** What declaration needs from the app. */
export interface DeclaringApp {
  readonly appId: string
  readonly serializer: Serializer
  readonly predicates: PredicateRegistry
  getTask(name: string): AnyTask | undefined
}

/** Condition id: kind plus the hash of its canonical spec, the same in every process. */
export function conditionIdOf(spec: ConditionSpec): string {
  return `${spec.kind}:${sha256(canonicalJson(spec))}`
}

/**
 * Checks and resolves the triggers declared on task `taskName` (whose function is `fn`). Every
 * problem is a {@link TriggerDefinitionError} naming the task and the trigger's position.
 */
export function resolveTriggers(
  app: DeclaringApp,
  taskName: string,
  fn: (...args: never[]) => unknown,
  triggers: readonly unknown[],
): ResolvedTrigger[] {
  if (!Array.isArray(triggers))
    throw new TriggerDefinitionError(
      taskName,
      0,
      '`triggers` must be a list of triggers (onCron(…), onEvent(…), …)',
    )
  const out: ResolvedTrigger[] = []
  triggers.forEach((raw, index) => {
    const fail = (reason: string): never => {
      throw new TriggerDefinitionError(taskName, index, reason)
    }
    const t = raw as Trigger<unknown[], unknown>
    if (typeof t !== 'object' || t === null || !Array.isArray(t.conditions) || t.conditions.length === 0)
      fail('not a trigger: build it with onCron, onEvent, onStatus, onResult, onException, allOf or anyOf')
    for (const part of t.combined ?? []) {
      if (part.combined || part.conditions.length !== 1)
        fail('allOf / anyOf combine single conditions (onCron, onEvent, …), not other combinations')
      if (part.args !== undefined)
        fail(
          'a condition inside allOf / anyOf has its own `args`: give them to the combination with .with({ args })',
        )
    }
    const conditions = t.conditions.map((c) => resolveCondition(app, c, fail))
    if (t.overlap !== 'allow' && t.overlap !== 'skip')
      fail(`overlap must be 'allow' or 'skip', not ${String(t.overlap)}`)
    checkMissed(t.missed, fail)
    const argsKey = checkArgs(app, taskName, fn, t.args, fail)
    const taskId = `${app.appId}.${taskName}`
    const conditionIds = [...new Set(conditions.map((c) => c.id))].sort()
    const spec = {
      taskName,
      logic: t.logic,
      conditions: conditions.map((c) => c.spec),
      overlap: t.overlap,
      missed: t.missed,
      args: argsKey,
    }
    const id = `trigger:${sha256(canonicalJson({ taskId, conditionIds, ...spec }))}`
    if (out.some((o) => o.id === id)) fail('the same trigger is declared twice on this task')
    out.push({
      id,
      taskName,
      logic: t.logic,
      shape: t.combined ? (t.logic === 'and' ? 'all' : 'any') : 'single',
      conditions,
      args: t.args,
      overlap: t.overlap,
      missed: t.missed,
      definition: { id, taskId, conditionIds, logic: t.logic, spec: canonicalJson(spec) },
    })
  })
  return out
}

function registerPredicate(app: DeclaringApp, p: unknown, what: string, fail: (r: string) => never): string {
  if (typeof p !== 'function' && !isNamedPredicate(p))
    fail(`${what} must be a function or predicate('name', fn)`)
  const entry = predicateEntry(p as Parameters<typeof predicateEntry>[0])
  const problem = app.predicates.add(entry)
  if (problem) fail(problem)
  return entry.key
}

function watchedTask(app: DeclaringApp, task: AnyTask, fail: (r: string) => never): string {
  if (typeof task !== 'function' || typeof task.taskName !== 'string')
    fail('the watched task must be a task returned by app.task')
  if (app.getTask(task.taskName) !== task || task.id !== `${app.appId}.${task.taskName}`)
    fail(
      `task "${task.taskName}" (${task.id}) belongs to another app: a trigger watches tasks of app "${app.appId}"`,
    )
  return task.taskName
}

function resolveCondition(
  app: DeclaringApp,
  c: DeclaredCondition,
  fail: (r: string) => never,
): ResolvedCondition {
  let spec: ConditionSpec
  switch (c.kind) {
    case 'cron': {
      const timezone = c.timezone ?? 'UTC'
      if (typeof timezone !== 'string') fail('timezone must be a string')
      const tz = timeZoneProblem(timezone)
      if (tz) fail(tz)
      const problem = cronProblem(c.expr, timezone)
      if (problem) fail(problem)
      spec = { kind: 'cron', expr: c.expr.trim().split(/\s+/).join(' '), timezone }
      break
    }
    case 'event': {
      if (typeof c.code !== 'string' || c.code.length === 0) fail('an event code must be a non-empty string')
      const f = c.filter
      if (f === undefined || f === null) spec = { kind: 'event', code: c.code, equals: null, predicate: null }
      else if (typeof f === 'function' || isNamedPredicate(f))
        spec = {
          kind: 'event',
          code: c.code,
          equals: null,
          predicate: registerPredicate(app, f, 'filter', fail),
        }
      else if (typeof f === 'object' && !Array.isArray(f)) {
        try {
          app.serializer.serialize(f, 'the event filter')
        } catch (err) {
          fail((err as Error).message)
        }
        spec = { kind: 'event', code: c.code, equals: f as Record<string, unknown>, predicate: null }
      } else fail('an event filter must be an object (equality on its keys) or a predicate')
      break
    }
    case 'status': {
      const taskName = watchedTask(app, c.task, fail)
      if (!Array.isArray(c.statuses) || c.statuses.length === 0) fail('onStatus needs at least one status')
      for (const s of c.statuses)
        if (!(WATCHED_STATUSES as readonly string[]).includes(s))
          fail(`status "${s}" cannot be watched; watch one of ${WATCHED_STATUSES.join(', ')}`)
      spec = {
        kind: 'status',
        taskName,
        statuses: [...new Set(c.statuses)].sort() as WatchedStatus[],
        predicate: c.filter === undefined ? null : registerPredicate(app, c.filter, 'filter', fail),
      }
      break
    }
    case 'result': {
      const taskName = watchedTask(app, c.task, fail)
      spec = {
        kind: 'result',
        taskName,
        predicate:
          c.filter === undefined ? null : registerPredicate(app, c.filter, 'the result filter', fail),
      }
      break
    }
    case 'exception': {
      const taskName = watchedTask(app, c.task, fail)
      if (!Array.isArray(c.errors) || c.errors.some((e) => typeof e !== 'string' || e.length === 0))
        fail('onException takes a list of error class names')
      spec = {
        kind: 'exception',
        taskName,
        errors: [...new Set(c.errors)].sort(),
        predicate: c.filter === undefined ? null : registerPredicate(app, c.filter, 'filter', fail),
      }
      break
    }
    default:
      return fail(`unknown condition kind ${JSON.stringify((c as { kind: unknown }).kind)}`)
  }
  return { id: conditionIdOf(spec), spec }
}

function checkMissed(missed: MissedPolicy, fail: (r: string) => never): void {
  if (missed === 'skip') return
  const w = (missed as { catchUpWithinMs?: unknown })?.catchUpWithinMs
  if (typeof w !== 'number' || !Number.isInteger(w) || w <= 0)
    fail("missed must be 'skip' or { catchUpWithinMs: <positive integer> }")
}

/** Checks the arguments against the task's function; returns what the trigger id covers of them. */
function checkArgs(
  app: DeclaringApp,
  taskName: string,
  fn: (...args: never[]) => unknown,
  args: unknown,
  fail: (r: string) => never,
): string | null {
  const required = fn.length
  if (args === undefined) {
    if (required > 0)
      fail(`task "${taskName}" takes ${required} argument(s) but the trigger gives none: add \`args\``)
    return null
  }
  if (typeof args === 'function') return `src:${sha256(args.toString())}`
  if (!Array.isArray(args)) fail('`args` must be an argument list or a function returning one')
  const list = args as unknown[]
  if (list.length < required)
    fail(`task "${taskName}" takes ${required} argument(s) but the trigger gives ${list.length}`)
  try {
    return `static:${app.serializer.serialize(list, `the trigger arguments of ${taskName}`)}`
  } catch (err) {
    return fail((err as Error).message)
  }
}
