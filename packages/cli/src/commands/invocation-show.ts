import { decodeError, type HistoryEntry, type InvocationProgress, type Nenc } from '@nenc/core'
import type { Command } from 'commander'
import { CliError } from '../cli-error.js'
import { type ArgsView, viewArgs } from '../inspect/args-view.js'
import { type ErrorLink, readErrorChain } from '../inspect/error-chain.js'
import { describeInvocations, type RelatedInvocation, readChildren } from '../inspect/related.js'
import { loadCliApp } from '../load-app.js'
import { parseCount } from './parse.js'

/** Everything `nenc invocation show` prints, also its `--json` output. */
export interface InvocationReport {
  id: string
  task: string | null
  status: string
  owner: string | null
  retries: number
  /** Run attempt (one more per claim); the outcome shown is this attempt's. */
  attempt: number
  parent: RelatedInvocation | null
  workflowId: string | null
  /** Each argument, or why the stored arguments could not be read. */
  args: ArgsView | null
  children: RelatedInvocation[]
  /** All children, also those beyond the listed ones. */
  childCount: number
  /** The result, when its serialized text is at most the display limit. */
  result?: unknown
  /** Its first characters otherwise. */
  resultPreview?: string
  /** Length of the serialized result. */
  resultChars?: number
  error?: { name: string; message: string; stack?: string }
  /** From this invocation to the one whose error it re-raised, and on to where it was thrown. */
  errorChain?: ErrorLink[]
  history: HistoryEntry[]
  /** The last progress a task attempt reported (`context().progress(value)`); null when none. */
  progress: InvocationProgress | null
}

export interface ReadOptions {
  /** Values (arguments, result) whose serialized text is longer are summarised. */
  maxValueChars?: number
  /** At most this many children are listed. */
  maxChildren?: number
}

export const DEFAULT_MAX_VALUE_CHARS = 2000
export const DEFAULT_MAX_CHILDREN = 50

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f()
  } catch {
    return fallback
  }
}

export async function readInvocation(
  app: Nenc,
  id: string,
  options: ReadOptions = {},
): Promise<InvocationReport> {
  const maxChars = options.maxValueChars ?? DEFAULT_MAX_VALUE_CHARS
  await app.ready()
  const { orchestrator, stateBackend } = app.backend
  const [[state], [record], history, progress] = await Promise.all([
    orchestrator.getStates([id]),
    stateBackend.getInvocations([id]),
    orchestrator.getHistory(id),
    app.invocation(id).progress(),
  ])
  if (!state) throw new CliError(`Invocation ${id} does not exist in app "${app.appId}".`)
  // The outcome of the current attempt: the final one's once the invocation is final.
  const [[outcome], [parent], { children, total }, args] = await Promise.all([
    stateBackend.getOutcomes([{ id, attempt: state.attempt }]),
    record?.parentId ? describeInvocations(app, [record.parentId]) : [null],
    readChildren(app, id, options.maxChildren ?? DEFAULT_MAX_CHILDREN),
    record ? viewArgs(app, record.args, maxChars) : null,
  ])
  const report: InvocationReport = {
    id,
    task: record?.taskName ?? null,
    status: state.status,
    owner: state.owner,
    retries: state.retries,
    attempt: state.attempt,
    parent: parent ?? null,
    workflowId: record?.workflow.id ?? null,
    args,
    children,
    childCount: total,
    history,
    progress,
  }
  if (outcome?.kind === 'result') {
    report.resultChars = outcome.value.length
    if (outcome.value.length <= maxChars)
      report.result = safe(() => app.serializer.deserialize(outcome.value), outcome.value)
    else report.resultPreview = `${outcome.value.slice(0, 80)}…`
  }
  if (outcome?.kind === 'error') {
    const e = decodeError(outcome.value)
    report.error = { name: e.name, message: e.message, stack: e.stack }
    report.errorChain = await readErrorChain(app, { invocationId: id, task: report.task, error: e })
  }
  return report
}

const show = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v) : (safe(() => JSON.stringify(v), String(v)) ?? String(v))

const related = (r: RelatedInvocation) =>
  `${r.id}  ${r.task ?? '(record missing)'}  ${r.status ?? '(no state)'}`

function argLines(args: ArgsView | null): string[] {
  if (!args) return ['  args      (record missing)']
  if ('error' in args)
    return [`  args      unreadable: ${args.error} (stored text starts ${JSON.stringify(args.raw)})`]
  if (!args.args.length) return ['  args      (none)']
  return args.args.map((a, i) => {
    const label = `  arg ${i + 1}`.padEnd(12)
    const where = a.inClientDataStore ? ', in the client data store' : ''
    return 'value' in a
      ? `${label}${show(a.value)}`
      : `${label}(${a.chars} chars${where}; --max-value-chars to see more) ${a.preview}`
  })
}

const progressText = (p: InvocationProgress) =>
  `${show(p.value)}  (attempt #${p.attempt}, ${new Date(p.updatedAt).toISOString()})`

/** The report as text: fields, arguments, relatives, error chain, then the history timeline. */
export function formatInvocation(r: InvocationReport): string {
  const lines = [
    `invocation ${r.id}`,
    `  task      ${r.task ?? '(record missing)'}`,
    `  status    ${r.status}${r.owner ? ` (owner ${r.owner})` : ''}`,
    `  retries   ${r.retries}`,
    `  attempt   ${r.attempt}`,
    `  parent    ${r.parent ? related(r.parent) : '-'}`,
    `  workflow  ${r.workflowId ?? '-'}`,
    ...argLines(r.args),
  ]
  if ('result' in r) lines.push(`  result    ${show(r.result)}`)
  else if (r.resultPreview)
    lines.push(`  result    (${r.resultChars} chars; --max-value-chars to see more) ${r.resultPreview}`)
  if (r.error) lines.push(`  error     ${r.error.name}: ${r.error.message}`)
  lines.push(`  progress  ${r.progress ? progressText(r.progress) : '-'}`)
  lines.push('', `children (${r.childCount})`)
  for (const c of r.children) lines.push(`  ${related(c)}`)
  if (r.childCount > r.children.length)
    lines.push(`  … ${r.childCount - r.children.length} more (--max-children)`)
  if (r.errorChain && r.errorChain.length > 1) {
    lines.push('', 'error chain (each invocation re-raised the next one’s error; the last threw it)')
    for (const l of r.errorChain) {
      const note = l.note ? `  [${l.note}]` : ''
      lines.push(`  ${l.invocationId}  ${l.task ?? '-'}  ${l.name}: ${l.message}${note}`)
    }
  }
  lines.push('', 'history')
  const t0 = r.history[0]?.timestamp ?? 0
  const width = Math.max(0, ...r.history.map((h) => h.status.length))
  for (const h of r.history) {
    const offset = `+${h.timestamp - t0}ms`.padStart(9)
    const at = new Date(h.timestamp).toISOString()
    const owner = h.owner && h.owner !== h.actor ? `  owner ${h.owner}` : ''
    lines.push(`  ${offset}  ${at}  #${h.attempt}  ${h.status.padEnd(width)}  by ${h.actor ?? '-'}${owner}`)
  }
  return `${lines.join('\n')}\n`
}

interface ShowOptions {
  app?: string
  json?: boolean
  maxValueChars?: number
  maxChildren?: number
}

/** `nenc invocation show <id>`: status, arguments, result or error chain, relatives, history. */
export function registerInvocationShow(invocation: Command): void {
  invocation
    .command('show <id>')
    .description('show an invocation: arguments, result or error chain, parent and children, history')
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--json', 'print JSON instead of text')
    .option(
      '--max-value-chars <n>',
      `summarise arguments and results longer than this when serialized (default ${DEFAULT_MAX_VALUE_CHARS})`,
      parseCount,
    )
    .option(
      '--max-children <n>',
      `list at most this many children (default ${DEFAULT_MAX_CHILDREN})`,
      parseCount,
    )
    .action(async (id: string, opts: ShowOptions) => {
      const app = await loadCliApp(opts.app)
      try {
        const report = await readInvocation(app, id, opts)
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInvocation(report))
      } finally {
        await app.close()
      }
    })
}
