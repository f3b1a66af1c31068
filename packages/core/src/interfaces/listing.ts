import type { InvocationStatus } from '../invocation/status.js'

/**
 * One page of a listing, newest first (creation time, then id, both descending). `next` is the
 * cursor of the following page, null once the listing has ended. A page may hold fewer than
 * `limit` ids while `next` is set: a backend may bound the work of one call (a status filter
 * scanning many non-matching invocations).
 *
 * Cursors are keyset positions (the last listed creation time and id), not offsets: invocations
 * created or removed meanwhile never shift a page, and reading page N costs the same as page 1.
 */
export interface InvocationPage {
  ids: string[]
  next: string | null
}

/** Where a page starts and how large it may be. */
export interface PageRequest {
  /** Page size, 1..1000. @default 50 */
  limit?: number
  /** `next` of the previous page; absent or null for the first page. */
  cursor?: string | null
}

/** Orchestrator listing filters; each given filter must hold. */
export interface InvocationFilter {
  taskId?: string
  /** Any of these statuses (an empty list matches nothing). */
  statuses?: readonly InvocationStatus[]
  /** Created at or after (ms epoch). */
  createdFrom?: number
  /** Created strictly before (ms epoch). */
  createdBefore?: number
}

export type InvocationPageQuery = InvocationFilter & PageRequest

/** Counting filters: by task and creation-time range. */
export type InvocationCountQuery = Omit<InvocationFilter, 'statuses'>

/** The number of invocations of one task currently in one status. */
export interface InvocationCount {
  taskId: string
  status: InvocationStatus
  count: number
}

/**
 * State-backend listing of records: exactly one of `workflowId` (the invocations of that
 * workflow, its root included, not those of sub-workflows) or `parentId` (the invocation's
 * direct children).
 */
export type RecordPageQuery = (
  | { workflowId: string; parentId?: undefined }
  | { parentId: string; workflowId?: undefined }
) &
  PageRequest
