import type { WatchedStatus } from './contexts.js'

/**
 * The stored context of a valid condition (the TriggerStore's `context` string is this, as
 * JSON). Values that came from a task or an event stay serialized until a trigger fires, so
 * matching at the source never deserializes what no trigger needs. `at` is when it became
 * valid: half-satisfied AND conditions expire by it.
 */
export type StoredContext = { at: number } & (
  | { kind: 'cron'; scheduledAt: number }
  | { kind: 'event'; eventId: string; code: string; payload: string; emittedAt: number }
  | { kind: 'status'; invocationId: string; taskName: string; status: WatchedStatus; args: string }
  | { kind: 'result'; invocationId: string; taskName: string; args: string; result: string }
  | { kind: 'exception'; invocationId: string; taskName: string; args: string; error: string }
)

/** A satisfied (condition, context) pair, as the TriggerStore holds it. */
export interface ValidCondition {
  id: string
  conditionId: string
  context: string
}

/**
 * The id of a valid condition: condition id plus what makes this occurrence unique (a scheduled
 * time, an event id, an invocation and status). pynenc keys exceptions by error type only, so
 * two failures of one type collide; here every failed invocation counts.
 */
export function validConditionId(conditionId: string, ctx: StoredContext): string {
  switch (ctx.kind) {
    case 'cron':
      return `${conditionId}@${ctx.scheduledAt}`
    case 'event':
      return `${conditionId}@${ctx.eventId}`
    case 'status':
      return `${conditionId}@${ctx.invocationId}:${ctx.status}`
    case 'result':
    case 'exception':
      return `${conditionId}@${ctx.invocationId}`
  }
}

export function validCondition(conditionId: string, ctx: StoredContext): ValidCondition {
  return { id: validConditionId(conditionId, ctx), conditionId, context: JSON.stringify(ctx) }
}

/** Reads a stored context; null when it is not one this version wrote (it is then dropped). */
export function parseContext(text: string): StoredContext | null {
  try {
    const v = JSON.parse(text) as StoredContext
    return typeof v?.at === 'number' && typeof v.kind === 'string' ? v : null
  } catch {
    return null
  }
}
