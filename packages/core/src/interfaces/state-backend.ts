import type { StatusRecord } from '../invocation/status.js'
import type { Component, Unsubscribe } from './component.js'
import type { InvocationPage, RecordPageQuery } from './listing.js'

/** Workflow identity (reference-behaviour §8). */
export interface WorkflowIdentity {
  id: string
  /** Task id of the workflow's root. */
  type: string
  parentWorkflowId: string | null
}

/** What the state backend stores about one invocation at routing time. */
export interface InvocationRecord {
  id: string
  taskId: string
  /** Task name within the app (what the runner looks up). */
  taskName: string
  callId: string
  /** Serialized argument list (may hold client-data references). */
  args: string
  parentId: string | null
  workflow: WorkflowIdentity
  /** ms epoch. */
  createdAt: number
  /**
   * A scheduled call (`task.schedule`): ms epoch before which the invocation must not start.
   * Absent for ordinary calls. Core reads it back through `getInvocations` (blocking control and
   * recovery, which could otherwise start a scheduled invocation early); the queue holds the id
   * back until then by itself, so fused claim steps need not return it.
   */
  runAt?: number
  /**
   * The caller's trace context (W3C `traceparent` / `tracestate` entries) when it routed the call
   * inside a recording OpenTelemetry span; the run's span is its child, in whatever process runs
   * it. Absent otherwise. Backends store it as given and return it unchanged.
   */
  traceContext?: Record<string, string>
}

/** The stored outcome of an invocation: a serialized result or a serialized error. */
export type Outcome = { kind: 'result'; value: string } | { kind: 'error'; value: string }

/** Names one attempt's outcome: outcomes are stored per attempt and never overwritten. */
export interface OutcomeRef {
  id: string
  /** The attempt that produced it (the final state's {@link StatusRecord.attempt}). */
  attempt: number
}

/** The last progress an attempt of an invocation reported (`context().progress(value)`). */
export interface ProgressRecord {
  id: string
  /** The attempt that reported it. */
  attempt: number
  /** Serialized value. */
  value: string
  /** ms epoch of the report. */
  updatedAt: number
}

/** A runner's identity and where it runs; children name their parent. */
export interface RunnerContextRecord {
  runnerId: string
  runnerClass: string
  parentRunnerId: string | null
  pid: number
  hostname: string
  startedAt: number
  /**
   * Most invocations the runner runs at once (its `maxParallelSlots`), stored by top-level
   * runners; absent for child runners, whose slots count in their parent's.
   */
  slots?: number
}

/**
 * Durable records: invocation calls, outcomes, workflow data, runner contexts. Status and history
 * live in the orchestrator so they change atomically together.
 */
export interface StateBackend extends Component {
  /** Stores invocation records in one round trip. Repeat call: overwrites with equal data. */
  upsertInvocations(records: readonly InvocationRecord[]): Promise<void>
  /** Records in input order; null for unknown ids. */
  getInvocations(ids: readonly string[]): Promise<(InvocationRecord | null)[]>
  /** Ids of invocations whose parent is `parentId`. */
  getChildInvocations(parentId: string): Promise<string[]>
  /**
   * One page of the invocations of a workflow (its root included, sub-workflows' own invocations
   * not) or of a parent's children, newest first by the records' creation time, then id, with a
   * keyset cursor. Bad query: `InvalidQueryError`.
   */
  listInvocationRecords(query: RecordPageQuery): Promise<InvocationPage>
  /**
   * Removes the records, every attempt's outcome and the progress of the given ids, and each from
   * its parent's children. Unknown ids are ignored; idempotent. Workflow data is kept.
   */
  deleteInvocations(ids: readonly string[]): Promise<void>
  /**
   * Stores outcomes under (id, attempt), write-once: when that attempt already has an outcome the
   * stored one is kept. The runner calls it before the attempt-fenced final transition, so a
   * final status always has its outcome readable under the final state's attempt, and a runner
   * presumed dead that writes late lands under its own, never-read attempt.
   */
  setOutcomes(items: readonly (OutcomeRef & { outcome: Outcome })[]): Promise<void>
  /** Outcomes in input order; null where that attempt has none. */
  getOutcomes(refs: readonly OutcomeRef[]): Promise<(Outcome | null)[]>
  /**
   * Stores the latest progress of each invocation: a record replaces the stored one unless the
   * stored one is of a higher attempt (a runner presumed dead that reports late never hides the
   * live attempt's progress). Backends that push progress notify their subscribers of each
   * stored record.
   */
  setProgress(items: readonly ProgressRecord[]): Promise<void>
  /** The stored progress in input order; null where none was reported. */
  getProgress(ids: readonly string[]): Promise<(ProgressRecord | null)[]>
  /**
   * Optional push: `listener` hears every record `setProgress` stores, from any process. Core
   * re-reads every `orchestrator.progressPollMs` when a backend leaves it out.
   */
  subscribeProgress?(listener: (records: ProgressRecord[]) => void): Promise<Unsubscribe>
  /** Workflow key/value data (serialized strings). Unknown key: null. */
  getWorkflowData(workflowId: string, key: string): Promise<string | null>
  setWorkflowData(workflowId: string, key: string, value: string): Promise<void>
  /** Stores a runner's context (idempotent by runner id). */
  storeRunnerContext(ctx: RunnerContextRecord): Promise<void>
  getRunnerContext(runnerId: string): Promise<RunnerContextRecord | null>
  /** Removes every record of this app. */
  purge(): Promise<void>
}
