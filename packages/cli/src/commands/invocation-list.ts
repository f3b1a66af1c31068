import { type InvocationFilter, type InvocationStatus, type Nenc, STATUSES, taskIdOf } from '@nenc/core'
import { type Command, InvalidArgumentError } from 'commander'
import { CliError } from '../cli-error.js'
import { loadCliApp } from '../load-app.js'
import { parseCount, parseSince } from './parse.js'

/** One row of `nenc invocation list`, also its `--json` output. */
export interface InvocationRow {
  id: string
  task: string | null
  status: string | null
  attempt: number | null
  /** ms epoch of routing. */
  createdAt: number | null
}

export interface ListOptions {
  task?: string
  statuses?: readonly InvocationStatus[]
  /** Only invocations created at or after this time (ms epoch). */
  since?: number
  limit?: number
  offset?: number
}

export const DEFAULT_LIST_LIMIT = 50

/** `--status success,failed` → the statuses, or a usage error naming the valid ones. */
export function parseStatuses(value: string): InvocationStatus[] {
  const known = new Set<string>(STATUSES)
  const asked = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
  const bad = asked.filter((s) => !known.has(s))
  if (bad.length || !asked.length)
    throw new InvalidArgumentError(
      `unknown status ${bad.join(', ') || '(none)'}; one or more of ${STATUSES.join(', ')}.`,
    )
  return asked as InvocationStatus[]
}

/** The page of ids the orchestrator lists, with task, status and creation time (two more reads). */
export async function listInvocationRows(app: Nenc, options: ListOptions = {}): Promise<InvocationRow[]> {
  await app.ready()
  if (options.task !== undefined && !app.taskNames().includes(options.task)) {
    throw new CliError(
      `--task: app "${app.appId}" defines no task "${options.task}"; its tasks: ${app.taskNames().join(', ') || '(none)'}.`,
      2,
    )
  }
  const { orchestrator, stateBackend } = app.backend
  const ids = await pageIds(
    app,
    {
      ...(options.task !== undefined ? { taskId: taskIdOf(app.appId, options.task) } : {}),
      ...(options.statuses ? { statuses: options.statuses } : {}),
      ...(options.since !== undefined ? { createdFrom: options.since } : {}),
    },
    options.offset ?? 0,
    options.limit ?? DEFAULT_LIST_LIMIT,
  )
  if (!ids.length) return []
  const [states, records] = await Promise.all([orchestrator.getStates(ids), stateBackend.getInvocations(ids)])
  return ids.map((id, i) => ({
    id,
    task: records[i]?.taskName ?? null,
    status: states[i]?.status ?? null,
    attempt: states[i]?.attempt ?? null,
    createdAt: records[i]?.createdAt ?? null,
  }))
}

/**
 * Ids `offset..offset+limit` of the keyset listing (`pageInvocations`, the one listing with a
 * creation-time filter), read page by page: a page may be short while the listing goes on.
 */
async function pageIds(
  app: Nenc,
  filter: InvocationFilter,
  offset: number,
  limit: number,
): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page = await app.backend.orchestrator.pageInvocations({
      ...filter,
      limit: Math.min(offset + limit - ids.length, MAX_PAGE),
      cursor,
    })
    ids.push(...page.ids)
    cursor = page.next
  } while (cursor && ids.length < offset + limit)
  return ids.slice(offset, offset + limit)
}

const MAX_PAGE = 1000

/** Rows as an aligned table, or one line saying nothing matched. */
export function formatInvocationRows(rows: readonly InvocationRow[]): string {
  if (!rows.length) return 'no invocation matches\n'
  const cells = rows.map((r) => [
    r.id,
    r.task ?? '(record missing)',
    r.status ?? '(no state)',
    r.attempt === null ? '-' : `#${r.attempt}`,
    r.createdAt === null ? '-' : new Date(r.createdAt).toISOString(),
  ])
  const head = ['id', 'task', 'status', 'attempt', 'created']
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)))
  const line = (row: string[]) =>
    row
      .map((v, c) => v.padEnd(widths[c]!))
      .join('  ')
      .trimEnd()
  return `${[line(head), ...cells.map(line)].join('\n')}\n`
}

interface ListFlags {
  app?: string
  task?: string
  status?: InvocationStatus[]
  since?: number
  limit?: number
  offset?: number
  json?: boolean
}

/** `nenc invocation list`: a page of invocations, filtered by task, status and creation time. */
export function registerInvocationList(invocation: Command): void {
  invocation
    .command('list')
    .description("list the app's invocations, newest first, filtered by task, status and creation time")
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--task <name>', 'only invocations of this task')
    .option('--status <list>', `only these statuses (comma list of ${STATUSES.join(', ')})`, parseStatuses)
    .option(
      '--since <when>',
      'only invocations created since then: a duration back from now (15m, 2h, 7d) or an ISO time',
      (v) => parseSince(v),
    )
    .option('--limit <n>', `at most this many (default ${DEFAULT_LIST_LIMIT})`, parseCount)
    .option('--offset <n>', 'skip this many first', (v) => (v === '0' ? 0 : parseCount(v)))
    .option('--json', 'print JSON instead of text')
    .action(async (opts: ListFlags) => {
      const app = await loadCliApp(opts.app)
      try {
        const rows = await listInvocationRows(app, {
          ...(opts.task !== undefined ? { task: opts.task } : {}),
          ...(opts.status ? { statuses: opts.status } : {}),
          ...(opts.since !== undefined ? { since: opts.since } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          ...(opts.offset !== undefined ? { offset: opts.offset } : {}),
        })
        process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatInvocationRows(rows))
      } finally {
        await app.close()
      }
    })
}
