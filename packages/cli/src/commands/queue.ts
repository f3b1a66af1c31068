import { type InvocationStatus, type Nenc, taskIdOf } from '@nenc/core'
import type { Command } from 'commander'
import { loadCliApp } from '../load-app.js'

/**
 * The statuses of an invocation that waits to run, in the order a run goes through them:
 * registered (routed, not yet claimed), rerouted (queued again: after its runner stopped or died,
 * or released from a concurrency key), retry (failed with retries left, waiting for its next attempt),
 * concurrency_controlled (parked until the running invocation with its key ends) and pending
 * (claimed by a runner that has not started it yet).
 */
export const WAITING_STATUSES = [
  'registered',
  'rerouted',
  'retry',
  'concurrency_controlled',
  'pending',
] as const satisfies readonly InvocationStatus[]

export type WaitingStatus = (typeof WAITING_STATUSES)[number]

/** Waiting invocations of one task, per status (orchestrator counts). */
export interface QueueRow {
  task: string
  counts: Record<WaitingStatus, number>
  total: number
}

/** Everything `nenc queue` prints, also its `--json` output. */
export interface QueueReport {
  /** Per task with at least one waiting invocation, by task name. */
  tasks: QueueRow[]
  /** Sum over the tasks. */
  totalWaiting: number
  /**
   * Ids in the broker's ready queue (`broker.count()`, duplicates counted): what runners can
   * take next. Not a sum of the task counts: a pending one has left it, and a scheduled call
   * before its time is registered but not counted here.
   */
  brokerQueued: number
}

const zero = (): Record<WaitingStatus, number> =>
  Object.fromEntries(WAITING_STATUSES.map((s) => [s, 0])) as Record<WaitingStatus, number>

/** Reads the orchestrator's counts per task and status and the broker's queue length. */
export async function readQueue(app: Nenc): Promise<QueueReport> {
  await app.ready()
  const { orchestrator, broker } = app.backend
  const [counts, brokerQueued] = await Promise.all([orchestrator.countInvocations({}), broker.count()])
  // Counts name tasks by id; the app's own task names read better (unknown ids are shown as is).
  const nameOf = new Map(app.taskNames().map((n) => [taskIdOf(app.appId, n), n]))
  const waiting = new Set<string>(WAITING_STATUSES)
  const rows = new Map<string, QueueRow>()
  for (const c of counts) {
    if (!waiting.has(c.status)) continue
    const task = nameOf.get(c.taskId) ?? c.taskId
    const row = rows.get(task) ?? { task, counts: zero(), total: 0 }
    row.counts[c.status as WaitingStatus] += c.count
    row.total += c.count
    rows.set(task, row)
  }
  const tasks = [...rows.values()].sort((a, b) => a.task.localeCompare(b.task))
  return { tasks, totalWaiting: tasks.reduce((n, r) => n + r.total, 0), brokerQueued }
}

/** A table of the task counts, then the broker queue length, each line saying what it counts. */
export function formatQueue(r: QueueReport): string {
  const head = ['task', ...WAITING_STATUSES, 'total']
  const cells = r.tasks.map((t) => [
    t.task,
    ...WAITING_STATUSES.map((s) => String(t.counts[s])),
    String(t.total),
  ])
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)))
  const line = (row: string[]) =>
    row
      .map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!)))
      .join('  ')
      .trimEnd()
  const lines = ['invocations waiting to run, per task and status (orchestrator)']
  if (r.tasks.length) lines.push(line(head), ...cells.map(line))
  else lines.push('  none')
  lines.push(
    '',
    `total waiting: ${r.totalWaiting}`,
    `broker queue:  ${r.brokerQueued} id(s) ready for a runner to take (duplicates counted)`,
  )
  return `${lines.join('\n')}\n`
}

/** `nenc queue`: what waits to run, per task and status, and the broker's queue length. */
export function registerQueue(program: Command): void {
  program
    .command('queue')
    .description(
      `count invocations waiting to run per task (${WAITING_STATUSES.join(', ')}) and the broker queue`,
    )
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = await loadCliApp(opts.app)
      try {
        const report = await readQueue(app)
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatQueue(report))
      } finally {
        await app.close()
      }
    })
}
