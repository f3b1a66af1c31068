import { decodeError, deserializeArgs, type HistoryEntry, type Nenc } from '@nenc/core'
import type { Command } from 'commander'
import { CliError } from '../cli-error.js'
import { loadCliApp } from '../load-app.js'

/** Everything `nenc invocation show` prints, also its `--json` output. */
export interface InvocationReport {
  id: string
  task: string | null
  status: string
  owner: string | null
  retries: number
  /** Run attempt (one more per claim); the outcome shown is this attempt's. */
  attempt: number
  parentId: string | null
  workflowId: string | null
  args: unknown
  result?: unknown
  error?: { name: string; message: string; stack?: string }
  history: HistoryEntry[]
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f()
  } catch {
    return fallback
  }
}

export async function readInvocation(app: Nenc, id: string): Promise<InvocationReport> {
  await app.ready()
  const { orchestrator, stateBackend } = app.backend
  const [[state], [record], history] = await Promise.all([
    orchestrator.getStates([id]),
    stateBackend.getInvocations([id]),
    orchestrator.getHistory(id),
  ])
  if (!state) throw new CliError(`Invocation ${id} does not exist in app "${app.appId}".`)
  // The outcome of the current attempt: the final one's once the invocation is final.
  const [outcome] = await stateBackend.getOutcomes([{ id, attempt: state.attempt }])
  const report: InvocationReport = {
    id,
    task: record?.taskName ?? null,
    status: state.status,
    owner: state.owner,
    retries: state.retries,
    attempt: state.attempt,
    parentId: record?.parentId ?? null,
    workflowId: record?.workflow.id ?? null,
    // Read as the runner reads them (large values fetched); unreadable ones stay as stored text.
    args: record
      ? await deserializeArgs(
          app.serializer,
          record.args,
          app.backend.clientDataStore,
          app.largeValues,
        ).catch(() => record.args)
      : null,
    history,
  }
  if (outcome?.kind === 'result')
    report.result = safe(() => app.serializer.deserialize(outcome.value), outcome.value)
  if (outcome?.kind === 'error') {
    const e = decodeError(outcome.value)
    report.error = { name: e.name, message: e.message, stack: e.stack }
  }
  return report
}

const show = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v) : (safe(() => JSON.stringify(v), String(v)) ?? String(v))

/** The timeline: one line per status change, offset from the first, with actor and owner. */
export function formatInvocation(r: InvocationReport): string {
  const lines = [
    `invocation ${r.id}`,
    `  task      ${r.task ?? '(record missing)'}`,
    `  status    ${r.status}${r.owner ? ` (owner ${r.owner})` : ''}`,
    `  retries   ${r.retries}`,
    `  attempt   ${r.attempt}`,
    `  parent    ${r.parentId ?? '-'}`,
    `  workflow  ${r.workflowId ?? '-'}`,
    `  args      ${show(r.args)}`,
  ]
  if ('result' in r) lines.push(`  result    ${show(r.result)}`)
  if (r.error) lines.push(`  error     ${r.error.name}: ${r.error.message}`)
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

/** `nenc invocation show <id>`: status, result or error, and the history as a timeline. */
export function registerInvocationShow(invocation: Command): void {
  invocation
    .command('show <id>')
    .description('show an invocation: status, result or error, and its history as a timeline')
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--json', 'print JSON instead of text')
    .action(async (id: string, opts: { app?: string; json?: boolean }) => {
      const app = await loadCliApp(opts.app)
      try {
        const report = await readInvocation(app, id)
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInvocation(report))
      } finally {
        await app.close()
      }
    })
}
