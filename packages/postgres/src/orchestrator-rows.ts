import { CorruptDataError, type InvocationRecord, type InvocationState } from '@nenc/core'
import { storedNumber, storedStatus } from './status-rules.js'

/** An invocations row as the statements return it. */
export interface StateRow {
  id: string
  task_id: string
  status: string
  owner: string | null
  ts: string | number
  retries: number
  attempt: number
}

/** The record columns the claim function returns with a claim (null when not asked for or absent). */
export interface RecordColumns {
  task_name: string | null
  call_id: string
  args: string
  parent_id: string | null
  workflow_id: string
  workflow_type: string
  parent_workflow_id: string | null
  created_at: string
  trace_context: string | null
}

/** The state backend's record carried by a claim row. */
export function recordOf(row: StateRow & RecordColumns): InvocationRecord {
  return {
    id: row.id,
    taskId: row.task_id,
    taskName: row.task_name!,
    callId: row.call_id,
    args: row.args,
    parentId: row.parent_id,
    workflow: { id: row.workflow_id, type: row.workflow_type, parentWorkflowId: row.parent_workflow_id },
    createdAt: storedNumber(row.created_at, `invocation record ${row.id}`),
    ...traceContextOf(row.trace_context, `invocation record ${row.id}`),
  }
}

/**
 * `{ traceContext }` from the stored JSON, or nothing when the column is NULL (a call routed
 * outside a recording span). Anything but an object of strings is `CorruptDataError`.
 */
export function traceContextOf(
  stored: string | null | undefined,
  where: string,
): { traceContext?: Record<string, string> } {
  if (stored === null || stored === undefined) return {}
  let value: unknown
  try {
    value = JSON.parse(stored)
  } catch {
    value = undefined
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !Object.values(value).every((v) => typeof v === 'string')
  )
    throw new CorruptDataError('postgres', where, 'its trace_context is not a JSON object of strings')
  return { traceContext: value as Record<string, string> }
}

/** Rounds of at most one request per id, in order: a repeated id waits for the next round. */
export function rounds<T extends { id: string }>(items: readonly T[]): { item: T; index: number }[][] {
  const out: { item: T; index: number }[][] = []
  const seen = new Map<string, number>()
  items.forEach((item, index) => {
    const round = seen.get(item.id) ?? 0
    seen.set(item.id, round + 1)
    ;(out[round] ??= []).push({ item, index })
  })
  return out
}

/** A state row, checked: an unknown status or a broken number is `CorruptDataError`. */
export function stateOf(row: StateRow, where: string): InvocationState {
  return {
    id: row.id,
    taskId: row.task_id,
    status: storedStatus(row.status, where),
    owner: row.owner,
    timestamp: storedNumber(row.ts, where),
    retries: storedNumber(row.retries, where),
    attempt: storedNumber(row.attempt, where),
  }
}

/**
 * Invocation records as the eleven parallel arrays the `unnest(…)` of `invocation_records` takes, in
 * column order (id, task_id, task_name, call_id, args, parent_id, workflow_id, workflow_type,
 * parent_workflow_id, created_at, trace_context): one encoding for the state backend's upsert and the fused route.
 */
export function recordArrays(rs: readonly InvocationRecord[]): unknown[][] {
  return [
    rs.map((r) => r.id),
    rs.map((r) => r.taskId),
    rs.map((r) => r.taskName),
    rs.map((r) => r.callId),
    rs.map((r) => r.args),
    rs.map((r) => r.parentId),
    rs.map((r) => r.workflow.id),
    rs.map((r) => r.workflow.type),
    rs.map((r) => r.workflow.parentWorkflowId),
    rs.map((r) => r.createdAt),
    rs.map((r) => (r.traceContext ? JSON.stringify(r.traceContext) : null)),
  ]
}
