import { WorkflowContextError } from '../errors.js'
import type { EventCursor, StoredEvent, TriggerStore } from '../interfaces/trigger-store.js'
import { isNamedPredicate, type PredicateLike } from '../triggers/predicates.js'
import { matchesEquals } from '../triggers/source-matching.js'

/** The event `wf.waitForEvent` returns. */
export interface WaitedEvent<P = unknown> {
  id: string
  code: string
  payload: P
  /** ms epoch, on the emitting process's clock. */
  emittedAt: number
}

export interface WaitForEventOptions<P> {
  /**
   * As an `onEvent` trigger's filter: equality on the listed payload keys (canonical JSON), or a
   * predicate of the payload (a plain function or a named `predicate()`; it runs in the workflow's
   * process, and if it throws the wait fails with its error).
   */
  filter?: Partial<P> | PredicateLike<(payload: P) => boolean>
  /**
   * Gives up this long after the wait was first reached and returns null. At most
   * `triggers.eventRetentionMs` (a replay could not see older events). Waits without end when omitted.
   */
  timeoutMs?: number
}

/** What the first run of a wait records: what it waits for, from when, until when. */
export interface WaitPlan {
  code: string
  /** ms epoch: events emitted at or after it count. */
  start: number
  /** ms epoch, or null (no timeout): events emitted after it do not count. */
  deadline: number | null
}

/** A payload test built from a wait's `filter`. */
export type PayloadTest = (payload: unknown) => boolean

/**
 * Checks a wait's arguments (WorkflowContextError naming the bad value) and returns its payload
 * test; `retentionMs` bounds the timeout.
 */
export function checkWaitArguments(
  code: unknown,
  options: unknown,
  retentionMs: number,
): { test: PayloadTest; timeoutMs: number | undefined } {
  const fail = (what: string) => new WorkflowContextError(`wf.waitForEvent(): ${what}.`)
  if (typeof code !== 'string' || code.length === 0)
    throw fail(`the event code must be a non-empty string, got ${describe(code)}`)
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw fail(`options must be an object { filter?, timeoutMs? }, got ${describe(options)}`)
  const { filter, timeoutMs } = options as { filter?: unknown; timeoutMs?: unknown }
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0)
      throw fail(`timeoutMs must be a finite number ≥ 0, got ${describe(timeoutMs)}`)
    if (timeoutMs > retentionMs)
      throw fail(
        `timeoutMs ${timeoutMs} is longer than triggers.eventRetentionMs (${retentionMs}): events older than ` +
          'the retention are dropped, so a replay could miss the one it waits for. Raise the retention or shorten the wait',
      )
  }
  return { test: payloadTest(filter), timeoutMs: timeoutMs as number | undefined }
}

function payloadTest(filter: unknown): PayloadTest {
  if (filter === undefined || filter === null) return () => true
  if (typeof filter === 'function') return (p) => (filter as PayloadTest)(p) === true
  if (isNamedPredicate(filter)) return (p) => filter.fn(p) === true
  if (typeof filter === 'object' && !Array.isArray(filter)) {
    const equals = filter as Record<string, unknown>
    return (p) => matchesEquals(p, equals)
  }
  throw new WorkflowContextError(
    `wf.waitForEvent(): filter must be an object (equality on its keys) or a predicate of the payload, got ${describe(filter)}.`,
  )
}

/** Parses a recorded plan; a value that is not one is reported, not guessed at. */
export function parsePlan(text: string, where: string): WaitPlan {
  const v = JSON.parse(text) as Partial<WaitPlan> | null
  if (
    typeof v?.code !== 'string' ||
    typeof v.start !== 'number' ||
    !(v.deadline === null || typeof v.deadline === 'number')
  )
    throw new WorkflowContextError(`the recorded wait ${where} is not { code, start, deadline }: ${text}`)
  return { code: v.code, start: v.start, deadline: v.deadline }
}

/** How many events one read of the store returns. */
const PAGE = 100

/**
 * An event stored late (its emitter stamped `emittedAt`, then took a while to write it, or its
 * clock is a little behind) lands behind where the last scan ended. The next scan starts this far
 * before the newest event already seen, so such an event is still looked at.
 */
export const LATE_WRITE_TOLERANCE_MS = 5_000

/**
 * One look at the store: the first event of the plan's code from `from` on (oldest first),
 * emitted no later than the deadline, whose payload passes `accepts`; and where the next look
 * starts from.
 */
export async function scanOnce(
  store: TriggerStore,
  plan: WaitPlan,
  from: EventCursor,
  accepts: (e: StoredEvent) => boolean,
): Promise<{ match: StoredEvent | null; next: EventCursor }> {
  let cursor = from
  let newest: number | null = null
  for (;;) {
    const page = await store.listEventsAfter(plan.code, cursor, PAGE)
    for (const e of page) {
      if (plan.deadline !== null && e.emittedAt > plan.deadline) return { match: null, next: from }
      if (accepts(e)) return { match: e, next: from }
      newest = e.emittedAt
    }
    if (page.length < PAGE) break
    const last = page[page.length - 1]!
    cursor = { emittedAt: last.emittedAt, id: last.id }
  }
  if (newest === null) return { match: null, next: from }
  const rewound = Math.max(plan.start, newest - LATE_WRITE_TOLERANCE_MS)
  // Never forward past where this look began with a lower bound than before.
  return { match: null, next: rewound > from.emittedAt ? { emittedAt: rewound, id: '' } : from }
}

export const recordOutcome = (event: StoredEvent | null): string => JSON.stringify({ event })

export function parseOutcome(text: string, where: string): StoredEvent | null {
  const v = JSON.parse(text) as { event?: Partial<StoredEvent> | null } | null
  const e = v?.event
  if (e === null) return null
  if (
    typeof e?.id !== 'string' ||
    typeof e.code !== 'string' ||
    typeof e.payload !== 'string' ||
    typeof e.emittedAt !== 'number'
  )
    throw new WorkflowContextError(`the recorded outcome of wait ${where} is not { event }: ${text}`)
  return { id: e.id, code: e.code, payload: e.payload, emittedAt: e.emittedAt }
}

function describe(v: unknown): string {
  if (typeof v === 'function') return 'a function'
  if (v === undefined) return 'undefined'
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}
