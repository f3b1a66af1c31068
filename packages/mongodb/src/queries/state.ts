import type { InvocationRecord, Outcome, OutcomeRef, RunnerContextRecord } from '@nenc/core'
import type { AnyBulkWriteOperation } from 'mongodb'
import { corrupt, isCount, isNum, isStr, isStrOrNull } from '../documents.js'

/**
 * One invocation's record (`<prefix>records`). Storing an outcome stamps `finishedAt` here too,
 * so the TTL index retires the record with its outcomes. A document may hold only that stamp
 * (an outcome stored for an id whose record was never written): it reads as "no record".
 */
export interface RecordDoc {
  _id: string
  taskId?: string
  taskName?: string
  callId?: string
  args?: string
  parentId?: string | null
  workflow?: { id: string; type: string; parentWorkflowId: string | null }
  createdAt?: number
  /** A scheduled call's run time (ms epoch); absent for ordinary calls. */
  runAt?: number | null
  /** The caller's trace context, null when it routed outside a recording span. */
  traceContext?: Record<string, string> | null
  finishedAt?: Date
}

/** Upserts the record fields and leaves an outcome already stored untouched. */
export function recordUpserts(records: readonly InvocationRecord[]): AnyBulkWriteOperation<RecordDoc>[] {
  return records.map((r) => ({
    updateOne: {
      filter: { _id: r.id },
      update: {
        $set: {
          taskId: r.taskId,
          taskName: r.taskName,
          callId: r.callId,
          args: r.args,
          parentId: r.parentId,
          workflow: {
            id: r.workflow.id,
            type: r.workflow.type,
            parentWorkflowId: r.workflow.parentWorkflowId,
          },
          createdAt: r.createdAt,
          runAt: r.runAt ?? null,
          traceContext: r.traceContext ?? null,
        },
      },
      upsert: true,
    },
  }))
}

/**
 * The `_id` of one attempt's outcome: a sub-document (field order fixed here), so no separator
 * can make two (id, attempt) pairs collide.
 */
export const outcomeId = (ref: OutcomeRef): { i: string; a: number } => ({ i: ref.id, a: ref.attempt })

/** One attempt's outcome (`<prefix>outcomes`), written once. */
export interface OutcomeDoc {
  _id: { i: string; a: number }
  outcome: Outcome
  /** Server time of the first write; the TTL index expires the document from it. */
  finishedAt: Date
}

/** Map key of one (id, attempt) pair, for matching documents read back to refs. */
export const outcomeKey = (ref: OutcomeRef): string => `${ref.attempt}:${ref.id}`

/**
 * The first item of each (id, attempt) in a batch: write-once means the first wins, and an
 * unordered bulk does not promise which of two upserts of one key lands first.
 */
export function firstPerAttempt<T extends OutcomeRef>(items: readonly T[]): T[] {
  const first = new Map<string, T>()
  for (const it of items) {
    const key = outcomeKey(it)
    if (!first.has(key)) first.set(key, it)
  }
  return [...first.values()]
}

/**
 * Write-once outcomes: an upsert by (id, attempt) whose outcome is set only on insert, so a
 * repeat (a late or duplicated write of the same attempt) keeps the stored one. The retention
 * clock starts in server time.
 */
export function outcomeUpserts(
  items: readonly (OutcomeRef & { outcome: Outcome })[],
): AnyBulkWriteOperation<OutcomeDoc>[] {
  return items.map((it) => ({
    updateOne: {
      filter: { _id: outcomeId(it) },
      update: {
        $setOnInsert: { outcome: { kind: it.outcome.kind, value: it.outcome.value } },
        $currentDate: { finishedAt: true },
      },
      upsert: true,
    },
  }))
}

/** Starts the retention clock of the records whose invocations got an outcome (server time). */
export function recordFinishedStamps(ids: readonly string[]): AnyBulkWriteOperation<RecordDoc>[] {
  return [...new Set(ids)].map((id) => ({
    updateOne: { filter: { _id: id }, update: { $currentDate: { finishedAt: true } }, upsert: true },
  }))
}

/** The record of a stored document; null when the document holds only an outcome. */
export function decodeRecord(doc: RecordDoc, location: string): InvocationRecord | null {
  if (doc.taskId === undefined) return null
  const w = doc.workflow
  if (
    !isStr(doc.taskId) ||
    !isStr(doc.taskName) ||
    !isStr(doc.callId) ||
    !isStr(doc.args) ||
    !isStrOrNull(doc.parentId) ||
    !isNum(doc.createdAt) ||
    (doc.runAt != null && !isNum(doc.runAt)) ||
    typeof w !== 'object' ||
    w === null ||
    !isStr(w.id) ||
    !isStr(w.type) ||
    !isStrOrNull(w.parentWorkflowId) ||
    !isTraceContextOrAbsent(doc.traceContext)
  ) {
    throw corrupt(
      location,
      'not an invocation record {taskId, taskName, callId, args, parentId, workflow, createdAt}',
    )
  }
  return {
    id: doc._id,
    taskId: doc.taskId,
    taskName: doc.taskName,
    callId: doc.callId,
    args: doc.args,
    parentId: doc.parentId,
    workflow: { id: w.id, type: w.type, parentWorkflowId: w.parentWorkflowId },
    createdAt: doc.createdAt,
    ...(doc.runAt == null ? {} : { runAt: doc.runAt }),
    ...(doc.traceContext ? { traceContext: doc.traceContext } : {}),
  }
}

/** Absent, null, or an object of string entries (W3C trace context). */
function isTraceContextOrAbsent(v: unknown): boolean {
  if (v === undefined || v === null) return true
  return typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isStr)
}

/** The (id, attempt) a stored outcome document names; null when its `_id` is not one. */
export function outcomeRefOf(doc: { _id?: unknown }): OutcomeRef | null {
  const id = doc._id as { i?: unknown; a?: unknown } | null | undefined
  if (typeof id !== 'object' || id === null || !isStr(id.i) || !isCount(id.a)) return null
  return { id: id.i, attempt: id.a }
}

export function decodeOutcome(doc: { outcome?: unknown }, location: string): Outcome | null {
  const o = doc.outcome
  if (o === undefined || o === null) return null
  const { kind, value } = o as { kind?: unknown; value?: unknown }
  if ((kind !== 'result' && kind !== 'error') || !isStr(value)) {
    throw corrupt(location, 'outcome is not {kind: "result" | "error", value: string}')
  }
  return { kind, value }
}

/** Workflow data (`<prefix>workflow_data`): one document per (workflow, key). */
export interface WorkflowDataDoc {
  _id: { w: string; k: string }
  v: string
}

/** The `_id` of one workflow value; a sub-document, so no separator can make two pairs collide. */
export const workflowDataId = (workflowId: string, key: string): { w: string; k: string } => ({
  w: workflowId,
  k: key,
})

/** Runner contexts (`<prefix>runner_contexts`), by runner id. */
export interface RunnerContextDoc extends Omit<RunnerContextRecord, 'runnerId'> {
  _id: string
}

export function runnerContextDoc(ctx: RunnerContextRecord): RunnerContextDoc {
  const { runnerId, ...rest } = ctx
  return {
    _id: runnerId,
    runnerClass: rest.runnerClass,
    parentRunnerId: rest.parentRunnerId,
    pid: rest.pid,
    hostname: rest.hostname,
    startedAt: rest.startedAt,
    ...(rest.slots !== undefined ? { slots: rest.slots } : {}),
  }
}

export function decodeRunnerContext(doc: RunnerContextDoc, location: string): RunnerContextRecord {
  if (
    !isStr(doc._id) ||
    !isStr(doc.runnerClass) ||
    !isStrOrNull(doc.parentRunnerId) ||
    !isNum(doc.pid) ||
    !isStr(doc.hostname) ||
    !isNum(doc.startedAt) ||
    (doc.slots !== undefined && !isNum(doc.slots))
  ) {
    throw corrupt(location, 'not a runner context {runnerClass, parentRunnerId, pid, hostname, startedAt}')
  }
  return {
    runnerId: doc._id,
    runnerClass: doc.runnerClass,
    parentRunnerId: doc.parentRunnerId,
    pid: doc.pid,
    hostname: doc.hostname,
    startedAt: doc.startedAt,
    ...(doc.slots !== undefined ? { slots: doc.slots } : {}),
  }
}
