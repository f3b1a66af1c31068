import type { StatusRecord } from '../invocation/status.js'
import type { Component } from './component.js'

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
   * Stores outcomes under (id, attempt), write-once: when that attempt already has an outcome the
   * stored one is kept. The runner calls it before the attempt-fenced final transition, so a
   * final status always has its outcome readable under the final state's attempt, and a runner
   * presumed dead that writes late lands under its own, never-read attempt.
   */
  setOutcomes(items: readonly (OutcomeRef & { outcome: Outcome })[]): Promise<void>
  /** Outcomes in input order; null where that attempt has none. */
  getOutcomes(refs: readonly OutcomeRef[]): Promise<(Outcome | null)[]>
  /** Workflow key/value data (serialized strings). Unknown key: null. */
  getWorkflowData(workflowId: string, key: string): Promise<string | null>
  setWorkflowData(workflowId: string, key: string, value: string): Promise<void>
  /** Stores a runner's context (idempotent by runner id). */
  storeRunnerContext(ctx: RunnerContextRecord): Promise<void>
  getRunnerContext(runnerId: string): Promise<RunnerContextRecord | null>
  /** Removes every record of this app. */
  purge(): Promise<void>
}
