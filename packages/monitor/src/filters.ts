import { type InvocationStatus, isStatus } from '@nenc/core'

/** The invocation filters of the list view, as read from (and written back to) its URL. */
export interface ListFilters {
  task?: string
  statuses: InvocationStatus[]
  /** ms epoch, inclusive. */
  from?: number
  /** ms epoch, exclusive. */
  to?: number
  workflow?: string
  parent?: string
  /** Text an argument's JSON must contain. */
  arg?: string
  cursor?: string
}

/** A bad filter value in a URL: names the parameter (shown on the page, status 400). */
export class FilterError extends Error {
  constructor(
    readonly param: string,
    reason: string,
  ) {
    super(`Bad "${param}" parameter: ${reason}`)
  }
}

/**
 * A time parameter: ms epoch digits, or a date. `datetime-local` inputs send no zone
 * ("2026-01-31T12:00"); the forms label them UTC, so a zone-less value is read as UTC.
 */
export function parseTime(param: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(/T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v) ? `${v}Z` : v)
  if (!Number.isFinite(ms)) throw new FilterError(param, `${JSON.stringify(v)} is not a date or ms epoch`)
  return ms
}

const text = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())

/** Reads the filters from URL query values (`status` may repeat). */
export function parseFilters(
  q: (name: string) => string | undefined,
  all: (name: string) => string[],
): ListFilters {
  const statuses = all('status')
    .flatMap((s) => s.split(','))
    .filter((s) => s !== '')
  for (const s of statuses) if (!isStatus(s)) throw new FilterError('status', `unknown status "${s}"`)
  return {
    task: text(q('task')),
    statuses: statuses as InvocationStatus[],
    from: parseTime('from', q('from')),
    to: parseTime('to', q('to')),
    workflow: text(q('workflow')),
    parent: text(q('parent')),
    arg: text(q('arg')),
    cursor: text(q('cursor')),
  }
}

/** The query string of filters (without the cursor unless given), for links and forms. */
export function filterQuery(f: ListFilters, extra: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams()
  if (f.task) p.set('task', f.task)
  for (const s of f.statuses) p.append('status', s)
  if (f.from !== undefined) p.set('from', String(f.from))
  if (f.to !== undefined) p.set('to', String(f.to))
  if (f.workflow) p.set('workflow', f.workflow)
  if (f.parent) p.set('parent', f.parent)
  if (f.arg) p.set('arg', f.arg)
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) p.set(k, v)
  const s = p.toString()
  return s ? `?${s}` : ''
}
