import type { Logger } from '../logger.js'
import { decodeError } from '../orchestration/errors-codec.js'
import type { Serializer } from '../serializer/serializer.js'
import { canonicalJson } from './canonical-json.js'
import type { ConditionSpec } from './conditions.js'
import type { WatchedStatus } from './contexts.js'
import type { ResolvedCondition } from './declare.js'
import type { PredicateRegistry } from './predicates.js'
import type { TriggerRegistry } from './registry.js'
import { type StoredContext, type ValidCondition, validCondition } from './valid-conditions.js'

/** The end of one attempt as the finisher wrote it, with what conditions need to see. */
export interface FinishedAttempt {
  invocationId: string
  taskName: string
  /** The invocation's stored (serialized) arguments. */
  args: string
  status: WatchedStatus
  /** Serialized result (success) or encoded error (failed). */
  outcome: string | null
}

/** What matching at the source needs: predicates run here, in the process that saw the change. */
export interface MatchingDeps {
  registry: TriggerRegistry
  predicates: PredicateRegistry
  serializer: Serializer
  logger: Logger
}

/**
 * A predicate's verdict. A predicate that throws or is unknown in this process (its app module
 * is not the one that declared it) counts as not satisfied, and is logged: one bad filter must
 * not fail the finish of the invocation it watches.
 */
function passes(deps: MatchingDeps, key: string | null, input: () => unknown, where: string): boolean {
  if (key === null) return true
  const fn = deps.predicates.get(key)
  if (!fn) {
    deps.logger.warn(
      { predicate: key, where },
      'trigger predicate unknown in this process; condition not met',
    )
    return false
  }
  try {
    return fn(input()) === true
  } catch (err) {
    deps.logger.warn({ err, predicate: key, where }, 'trigger predicate threw; condition not met')
    return false
  }
}

/** Valid conditions for attempts that ended: status, result and exception conditions of their tasks. */
export async function matchFinished(
  deps: MatchingDeps,
  attempts: readonly FinishedAttempt[],
  now: number,
  argsOf: (text: string) => Promise<unknown[]>,
): Promise<ValidCondition[]> {
  const out: ValidCondition[] = []
  for (const a of attempts) {
    const conditions = deps.registry.watching(a.taskName)
    if (conditions.length === 0) continue
    // Deserialized at most once per attempt, and only when a predicate reads them.
    let args: Promise<unknown[]> | undefined
    let argsValue: unknown[] = []
    const loadArgs = async () => {
      args ??= argsOf(a.args)
      argsValue = await args
      return argsValue
    }
    for (const c of conditions) {
      const ctx = await contextFor(deps, c, a, now, loadArgs)
      if (ctx) out.push(validCondition(c.id, ctx))
    }
  }
  return out
}

async function contextFor(
  deps: MatchingDeps,
  c: ResolvedCondition,
  a: FinishedAttempt,
  now: number,
  loadArgs: () => Promise<unknown[]>,
): Promise<StoredContext | null> {
  const s = c.spec as Exclude<ConditionSpec, { kind: 'cron' | 'event' }>
  const base = { at: now, invocationId: a.invocationId, taskName: a.taskName, args: a.args }
  const needArgs = s.predicate !== null ? await loadArgs() : []
  switch (s.kind) {
    case 'status': {
      if (!s.statuses.includes(a.status)) return null
      const input = {
        kind: 'status',
        invocationId: a.invocationId,
        taskName: a.taskName,
        status: a.status,
        args: needArgs,
      }
      if (!passes(deps, s.predicate, () => input, c.id)) return null
      return { ...base, kind: 'status', status: a.status }
    }
    case 'result': {
      if (a.status !== 'success' || a.outcome === null) return null
      const text = a.outcome
      if (!passes(deps, s.predicate, () => deps.serializer.deserialize(text), c.id)) return null
      return { ...base, kind: 'result', result: text }
    }
    case 'exception': {
      if (a.status !== 'failed' || a.outcome === null) return null
      const error = decodeError(a.outcome)
      if (s.errors.length > 0 && !s.errors.includes(error.name)) return null
      const input = {
        kind: 'exception',
        invocationId: a.invocationId,
        taskName: a.taskName,
        args: needArgs,
        error,
      }
      if (!passes(deps, s.predicate, () => input, c.id)) return null
      return { ...base, kind: 'exception', error: a.outcome }
    }
  }
}

/** Valid conditions for an emitted event: event conditions of its code whose filter it passes. */
export function matchEvent(
  deps: MatchingDeps,
  event: { eventId: string; code: string; payload: unknown; payloadText: string; emittedAt: number },
): ValidCondition[] {
  const out: ValidCondition[] = []
  for (const c of deps.registry.onEvent(event.code)) {
    const s = c.spec as Extract<ConditionSpec, { kind: 'event' }>
    if (s.equals && !matchesEquals(event.payload, s.equals)) continue
    if (!passes(deps, s.predicate, () => event.payload, c.id)) continue
    out.push(
      validCondition(c.id, {
        at: event.emittedAt,
        kind: 'event',
        eventId: event.eventId,
        code: event.code,
        payload: event.payloadText,
        emittedAt: event.emittedAt,
      }),
    )
  }
  return out
}

/** Equality on the filter's keys only (pynenc's dict filter), values compared as canonical JSON. */
export function matchesEquals(payload: unknown, equals: Record<string, unknown>): boolean {
  if (typeof payload !== 'object' || payload === null) return false
  const p = payload as Record<string, unknown>
  return Object.entries(equals).every(([k, v]) => canonicalJson(p[k]) === canonicalJson(v))
}
