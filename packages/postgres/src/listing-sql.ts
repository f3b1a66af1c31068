import {
  checkFilter,
  encodeCursor,
  type InvocationFilter,
  type InvocationPage,
  type PageRequest,
  pageRequest,
} from '@nenc/core'
import { storedNumber } from './status-rules.js'

/** A WHERE clause under construction: conditions and their positional values. */
export class Where {
  readonly conditions: string[] = []
  constructor(readonly values: unknown[]) {}

  add(sql: (param: (value: unknown) => string) => string): this {
    this.conditions.push(sql((v) => `$${this.values.push(v)}`))
    return this
  }

  toString(): string {
    return this.conditions.join(' AND ')
  }
}

/** Task, status and creation-time conditions of an orchestrator filter (columns of `invocations`). */
export function filterConditions(where: Where, f: InvocationFilter): Where {
  checkFilter(f)
  if (f.taskId !== undefined) where.add((p) => `task_id = ${p(f.taskId)}`)
  if (f.statuses) where.add((p) => `status = ANY(${p([...f.statuses!])}::text[])`)
  if (f.createdFrom !== undefined) where.add((p) => `created_at >= ${p(Math.ceil(f.createdFrom!))}`)
  if (f.createdBefore !== undefined) where.add((p) => `created_at < ${p(Math.ceil(f.createdBefore!))}`)
  return where
}

/**
 * Adds the keyset start of a page and returns the ORDER/LIMIT tail: one row more than the page,
 * to know whether another follows. The row comparison `(created_at, id) < (…)` is an index range
 * on the `(…, created_at, id)` indexes, read backward.
 */
export function keysetTail(where: Where, q: PageRequest): { tail: string; limit: number } {
  const { limit, after } = pageRequest(q)
  if (after) where.add((p) => `(created_at, id) < (${p(after.createdAt)}, ${p(after.id)})`)
  return { tail: `ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`, limit }
}

/** The page of rows read with {@link keysetTail} (`limit + 1` at most). */
export function pageOfRows(rows: { id: string; created_at: string }[], limit: number): InvocationPage {
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    ids: page.map((r) => r.id),
    next:
      rows.length > limit && last
        ? encodeCursor({ createdAt: storedNumber(last.created_at, `invocation ${last.id}`), id: last.id })
        : null,
  }
}
