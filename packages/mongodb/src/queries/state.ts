import type { InvocationRecord, Outcome, RunnerContextRecord } from '@nenc/core'
import type { AnyBulkWriteOperation } from 'mongodb'
import { corrupt, isNum, isStr, isStrOrNull } from '../documents.js'

/**
 * One invocation's record and outcome (`<prefix>records`). The outcome is written into the same
 * document, so the TTL index on `finishedAt` retires both together. A document may hold only an
 * outcome (stored for an id whose record was never written): it reads as "no record".
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
  outcome?: Outcome
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
        },
      },
      upsert: true,
    },
  }))
}

/** Sets each outcome (last write wins) and starts its retention clock in server time. */
export function outcomeUpserts(
  items: readonly { id: string; outcome: Outcome }[],
): AnyBulkWriteOperation<RecordDoc>[] {
  return items.map((it) => ({
    updateOne: {
      filter: { _id: it.id },
      update: {
        $set: { outcome: { kind: it.outcome.kind, value: it.outcome.value } },
        $currentDate: { finishedAt: true },
      },
      upsert: true,
    },
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
    typeof w !== 'object' ||
    w === null ||
    !isStr(w.id) ||
    !isStr(w.type) ||
    !isStrOrNull(w.parentWorkflowId)
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
  }
}

export function decodeOutcome(doc: RecordDoc, location: string): Outcome | null {
  const o = doc.outcome as unknown
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
  }
}

export function decodeRunnerContext(doc: RunnerContextDoc, location: string): RunnerContextRecord {
  if (
    !isStr(doc._id) ||
    !isStr(doc.runnerClass) ||
    !isStrOrNull(doc.parentRunnerId) ||
    !isNum(doc.pid) ||
    !isStr(doc.hostname) ||
    !isNum(doc.startedAt)
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
  }
}
