import { InvalidQueryError } from '../errors.js'
import type { InvocationFilter, InvocationPage, PageRequest, RecordPageQuery } from '../interfaces/listing.js'

/** A keyset position: the creation time and id of the last listed invocation. */
export interface KeysetPosition {
  createdAt: number
  id: string
}

export const DEFAULT_PAGE_LIMIT = 50
export const MAX_PAGE_LIMIT = 1000

/**
 * Opaque cursor text: creation time in base 36, a dot, the id. Ids may hold any character, so
 * only the first dot separates.
 */
export function encodeCursor(p: KeysetPosition): string {
  return `${p.createdAt.toString(36)}.${p.id}`
}

export function decodeCursor(cursor: string): KeysetPosition {
  const dot = cursor.indexOf('.')
  const time = dot > 0 ? cursor.slice(0, dot) : ''
  const createdAt = /^[0-9a-z]{1,11}$/.test(time) ? Number.parseInt(time, 36) : Number.NaN
  const id = cursor.slice(dot + 1)
  if (!Number.isSafeInteger(createdAt) || dot < 0 || id === '') {
    throw new InvalidQueryError('cursor', `${JSON.stringify(cursor)} is not a cursor returned by a listing`)
  }
  return { createdAt, id }
}

/** The validated page size and decoded start position of a request. */
export function pageRequest(q: PageRequest): { limit: number; after: KeysetPosition | null } {
  const limit = q.limit ?? DEFAULT_PAGE_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new InvalidQueryError('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${limit}`)
  }
  return { limit, after: q.cursor ? decodeCursor(q.cursor) : null }
}

/** Checks the time bounds of a filter (finite ms values). */
export function checkFilter(f: InvocationFilter): void {
  for (const key of ['createdFrom', 'createdBefore'] as const) {
    const v = f[key]
    if (v !== undefined && !Number.isFinite(v)) {
      throw new InvalidQueryError(key, `must be a finite ms epoch, got ${v}`)
    }
  }
}

/** Checks that a record listing names exactly one of workflowId / parentId. */
export function checkRecordQuery(q: RecordPageQuery): void {
  const given = [q.workflowId, q.parentId].filter((v) => v !== undefined)
  if (given.length !== 1 || given[0] === '') {
    throw new InvalidQueryError('workflowId/parentId', 'give exactly one, a non-empty id')
  }
}

/** Newest first: creation time descending, then id descending (the listing order everywhere). */
export function newestFirst(a: KeysetPosition, b: KeysetPosition): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}

/** True when `p` comes after `after` in newest-first order. */
export function isAfter(p: KeysetPosition, after: KeysetPosition | null): boolean {
  return !after || p.createdAt < after.createdAt || (p.createdAt === after.createdAt && p.id < after.id)
}

/**
 * One page of already-filtered positions (any order): for backends that list in process.
 * `next` is set when more positions follow.
 */
export function pageOfPositions(positions: Iterable<KeysetPosition>, q: PageRequest): InvocationPage {
  const { limit, after } = pageRequest(q)
  const rest = [...positions].filter((p) => isAfter(p, after)).sort(newestFirst)
  const page = rest.slice(0, limit)
  const last = page[page.length - 1]
  return { ids: page.map((p) => p.id), next: rest.length > limit && last ? encodeCursor(last) : null }
}
