import {
  checkFilter,
  checkRecordQuery,
  encodeCursor,
  FINAL_STATUSES,
  type InvocationCountQuery,
  type InvocationFilter,
  type InvocationPage,
  type InvocationPageQuery,
  type PageRequest,
  pageRequest,
  type RecordPageQuery,
} from '@nenc/core'
import { type Document, MaxKey, MinKey } from 'mongodb'

/** A find: filter, newest-first sort and one more document than the page (to know if another follows). */
export interface PageFind {
  filter: Document
  sort: Document
  limit: number
  /** The page size asked for. */
  page: number
}

const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const

/** The keyset start `(createdAt, _id) < (t, id)` as a filter, served by the `createdAt, _id` indexes. */
function keyset(q: PageRequest): { after: Document | null; limit: number } {
  const { limit, after } = pageRequest(q)
  if (!after) return { after: null, limit }
  return {
    after: {
      $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }],
    },
    limit,
  }
}

const and = (parts: Document[]): Document =>
  parts.length === 0 ? {} : parts.length === 1 ? parts[0]! : { $and: parts }

/** Task, status and creation-time conditions on invocation documents. */
export function invocationFilter(f: InvocationFilter): Document {
  checkFilter(f)
  const filter: Document = {}
  if (f.taskId !== undefined) filter.taskId = f.taskId
  if (f.statuses) filter.status = { $in: [...f.statuses] }
  if (f.createdFrom !== undefined || f.createdBefore !== undefined) {
    filter.createdAt = {
      ...(f.createdFrom !== undefined ? { $gte: f.createdFrom } : {}),
      ...(f.createdBefore !== undefined ? { $lt: f.createdBefore } : {}),
    }
  }
  return filter
}

/** `Orchestrator.pageInvocations` on the invocations collection. */
export function invocationPageFind(q: InvocationPageQuery): PageFind {
  const base = invocationFilter(q)
  const { after, limit } = keyset(q)
  return { filter: and(after ? [base, after] : [base]), sort: NEWEST_FIRST, limit: limit + 1, page: limit }
}

/** `Orchestrator.countInvocations`: one aggregation grouping by (task, status). */
export function invocationCountPipeline(q: InvocationCountQuery): Document[] {
  return [
    { $match: invocationFilter(q) },
    { $group: { _id: { t: '$taskId', s: '$status' }, n: { $sum: 1 } } },
  ]
}

/** `StateBackend.listInvocationRecords` on the records collection (workflow or parent index). */
export function recordPageFind(q: RecordPageQuery): PageFind {
  checkRecordQuery(q)
  const base: Document =
    q.workflowId !== undefined ? { 'workflow.id': q.workflowId } : { parentId: q.parentId }
  const { after, limit } = keyset(q)
  return { filter: and(after ? [base, after] : [base]), sort: NEWEST_FIRST, limit: limit + 1, page: limit }
}

/** The page of documents read with a {@link PageFind}. */
export function pageOfDocs(docs: { _id: unknown; createdAt?: unknown }[], find: PageFind): InvocationPage {
  const page = docs.slice(0, find.page)
  const last = page[page.length - 1]
  return {
    ids: page.map((d) => String(d._id)),
    next:
      docs.length > find.page && last
        ? encodeCursor({ createdAt: Number(last.createdAt), id: String(last._id) })
        : null,
  }
}

/** `deleteFinalInvocations`: the given ids still in a final status (a final status never changes). */
export function finalAmongFilter(ids: readonly string[]): Document {
  return { _id: { $in: [...new Set(ids)] }, status: { $in: [...FINAL_STATUSES] } }
}

/** Blocking edges naming any of the ids, as waiter or waited. */
export function edgesOfFilter(ids: readonly string[]): Document {
  return { $or: [{ waiter: { $in: [...ids] } }, { waited: { $in: [...ids] } }] }
}

/**
 * Outcome documents of every attempt of the ids: `_id` is `{i, a}`, so one `_id` range per id,
 * `{i, a: MinKey}`..`{i, a: MaxKey}` (embedded documents compare field by field), keeps the
 * delete on the `_id` index (a filter on `_id.i` could not use it).
 */
export function outcomesOfFilter(ids: readonly string[]): Document {
  return {
    $or: [...new Set(ids)].map((i) => ({
      _id: { $gte: { i, a: new MinKey() }, $lte: { i, a: new MaxKey() } },
    })),
  }
}
