import {
  type InvocationPage,
  type InvocationRecord,
  type InvocationState,
  MAX_PAGE_LIMIT,
  type Nenc,
} from '@nenc/core'
import type { ListFilters } from '../filters.js'

/** One row of the invocations list. */
export interface ListRow {
  state: InvocationState
  record: InvocationRecord | null
}

export interface ListPage {
  rows: ListRow[]
  /** Cursor of the next page, null at the end. */
  next: string | null
}

export const PAGE_SIZE = 25
/** Backend pages one list request may read while filters checked here drop their rows. */
const SCAN_PAGES = 8

/**
 * A page of the invocations list, read through the component interfaces only: a workflow or
 * parent filter pages the state backend's records, any other the orchestrator's listing; filters
 * that source cannot apply (status for records, arguments for both) are checked here on each
 * backend page. The cursor is the backend's, so pages stay stable; a page may be short (rows
 * dropped by those filters, at most a few backend pages read per request) while a next cursor
 * is given.
 */
export async function listPage(
  app: Nenc,
  f: ListFilters,
  size = PAGE_SIZE,
  masked: ReadonlySet<string> = new Set(),
): Promise<ListPage> {
  const { orchestrator, stateBackend } = app.backend
  const byRecords = f.workflow !== undefined || f.parent !== undefined
  const rows: ListRow[] = []
  let cursor: string | null = f.cursor ?? null
  for (let scanned = 0; scanned < SCAN_PAGES; scanned++) {
    // Never more than the rows still wanted: a page is never cut, so its cursor is the next one.
    const want = Math.min(MAX_PAGE_LIMIT, size - rows.length)
    const page: InvocationPage = byRecords
      ? await stateBackend.listInvocationRecords(
          f.workflow !== undefined
            ? { workflowId: f.workflow, limit: want, cursor }
            : { parentId: f.parent!, limit: want, cursor },
        )
      : await orchestrator.pageInvocations({
          taskId: f.task,
          statuses: f.statuses.length ? f.statuses : undefined,
          createdFrom: f.from,
          createdBefore: f.to,
          limit: want,
          cursor,
        })
    const [states, records] = await Promise.all([
      orchestrator.getStates(page.ids),
      stateBackend.getInvocations(page.ids),
    ])
    for (let i = 0; i < page.ids.length; i++) {
      const state = states[i]
      if (!state) continue
      const row = { state, record: records[i] ?? null }
      if (byRecords && !matchesOrchestratorFilters(row, f)) continue
      // A masked task's arguments are never matched: a filter could otherwise probe their values.
      if (f.arg !== undefined && (masked.has(row.record?.taskName ?? '') || !argsContain(row.record, f.arg)))
        continue
      rows.push(row)
    }
    cursor = page.next
    if (!cursor || rows.length === size) break
  }
  return { rows, next: cursor }
}

function matchesOrchestratorFilters(row: ListRow, f: ListFilters): boolean {
  const createdAt = row.record?.createdAt
  if (f.task !== undefined && row.state.taskId !== f.task) return false
  if (f.statuses.length && !f.statuses.includes(row.state.status)) return false
  if (f.from !== undefined && (createdAt === undefined || createdAt < f.from)) return false
  if (f.to !== undefined && (createdAt === undefined || createdAt >= f.to)) return false
  return true
}

/** Argument filter: the stored (serialized) argument text contains the given text. */
function argsContain(record: InvocationRecord | null, text: string): boolean {
  return record?.args.includes(text) ?? false
}
