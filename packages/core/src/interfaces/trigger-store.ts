import type { Component } from './component.js'

/** A stored trigger definition: which task to call when its conditions hold. */
export interface TriggerDefinition {
  id: string
  taskId: string
  conditionIds: string[]
  logic: 'and' | 'or'
  /** Serialized definition (conditions, argument providers) owned by core. */
  spec: string
}

/** An event emitted with `app.emitEvent`, as stored for listing. */
export interface StoredEvent {
  id: string
  code: string
  /** The serialized payload. */
  payload: string
  /** ms epoch. */
  emittedAt: number
}

/** Which stored events to list: newest first. */
export interface ListEventsQuery {
  code?: string
  /** @default 100 */
  limit?: number
}

/**
 * Where a scan of one code's events resumes: strictly after this event in (emittedAt, id) order
 * (ids compared bytewise). `id: ''` starts at the first event emitted at `emittedAt`.
 */
export interface EventCursor {
  /** ms epoch. */
  emittedAt: number
  id: string
}

/**
 * Trigger definitions and the shared bookkeeping that makes a cron tick or an event fire its
 * triggers once across all runners.
 */
export interface TriggerStore extends Component {
  /** Replaces every trigger of `taskId` with `triggers` (atomic per task). */
  setTaskTriggers(taskId: string, triggers: readonly TriggerDefinition[]): Promise<void>
  /** All triggers referencing `conditionId`; all triggers when omitted. */
  getTriggers(conditionId?: string): Promise<TriggerDefinition[]>
  /** Records satisfied (condition, context) pairs. Idempotent per pair id. */
  addValidConditions(items: readonly { id: string; conditionId: string; context: string }[]): Promise<void>
  getValidConditions(): Promise<{ id: string; conditionId: string; context: string }[]>
  clearValidConditions(ids: readonly string[]): Promise<void>
  /** Last cron execution of a condition (ms epoch), or null. */
  getLastCronExecution(conditionId: string): Promise<number | null>
  /**
   * Compare-and-set of the last cron execution: writes `next` only if the stored value equals
   * `expected` (null = absent). Returns true when written. N concurrent callers: one wins.
   */
  setLastCronExecution(conditionId: string, expected: number | null, next: number): Promise<boolean>
  /** Set-if-absent with expiry: true for exactly one caller per `runId` within `ttlMs`. */
  claimTriggerRun(runId: string, ttlMs: number): Promise<boolean>
  /**
   * Stores an emitted event and drops this app's events emitted before
   * `event.emittedAt - retentionMs` (retention is enforced on write, so no sweeper is needed).
   */
  addEvent(event: StoredEvent, retentionMs: number): Promise<void>
  /** Stored events, newest first (ties by id), optionally of one code. */
  listEvents(query?: ListEventsQuery): Promise<StoredEvent[]>
  /**
   * Up to `limit` stored events of `code` after `after`, oldest first (emittedAt, then id
   * bytewise): what `wf.waitForEvent` pages through to find the first match since it started.
   */
  listEventsAfter(code: string, after: EventCursor, limit: number): Promise<StoredEvent[]>
  purge(): Promise<void>
}
