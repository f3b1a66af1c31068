import type {
  InvocationCount,
  InvocationStatus,
  Nenc,
  RunnerContextRecord,
  RunnerHeartbeat,
} from '@nenc/core'
import { type ListRow, listPage } from './listing.js'

export const HOUR = 3_600_000

export interface Overview {
  /** Counts of invocations created in the window, per task and current status. */
  counts: InvocationCount[]
  /** Per hour of the window, oldest first: counts per current status. */
  hours: { start: number; byStatus: Partial<Record<InvocationStatus, number>> }[]
  queueDepth: number
  runners: number
  recentFailures: ListRow[]
  windowStart: number
}

/**
 * The overview over the last `hours` hours: one count per hour (each a `countInvocations` over
 * that hour), the queue depth, live runners and the latest failures.
 */
export async function readOverview(app: Nenc, hours: number, now = Date.now()): Promise<Overview> {
  const { orchestrator, broker } = app.backend
  const end = Math.ceil(now / HOUR) * HOUR
  const starts = Array.from({ length: hours }, (_, i) => end - (hours - i) * HOUR)
  const [perHour, queueDepth, runners, failures] = await Promise.all([
    Promise.all(
      starts.map((s) => orchestrator.countInvocations({ createdFrom: s, createdBefore: s + HOUR })),
    ),
    broker.count(),
    orchestrator.getActiveRunners(runnerDeadAfter(app)),
    listPage(app, { statuses: ['failed'] }, 10),
  ])
  const totals = new Map<string, InvocationCount>()
  for (const c of perHour.flat()) {
    const key = `${c.taskId}\0${c.status}`
    const t = totals.get(key)
    if (t) t.count += c.count
    else totals.set(key, { ...c })
  }
  return {
    counts: [...totals.values()].sort(
      (a, b) => a.taskId.localeCompare(b.taskId) || a.status.localeCompare(b.status),
    ),
    hours: perHour.map((cs, i) => {
      const byStatus: Partial<Record<InvocationStatus, number>> = {}
      for (const c of cs) byStatus[c.status] = (byStatus[c.status] ?? 0) + c.count
      return { start: starts[i]!, byStatus }
    }),
    queueDepth,
    runners: runners.length,
    recentFailures: failures.rows,
    windowStart: starts[0] ?? end,
  }
}

/** The app's own dead-runner threshold: a runner heartbeating within it is alive. */
export function runnerDeadAfter(app: Nenc): number {
  return app.config.value<number>('orchestrator.runnerDeadAfterMs')
}

export interface RunnerRow {
  heartbeat: RunnerHeartbeat
  context: RunnerContextRecord | null
  /**
   * Its atomic-service window within each `orchestrator.atomicServiceIntervalMs` (core's
   * `isInServiceWindow`: the interval split evenly among the eligible runners by first heartbeat,
   * a fifth of each slot kept as margin), null when it may not run them.
   */
  atomicWindow: { slot: number; of: number; fromMs: number; toMs: number; intervalMs: number } | null
  children: RunnerRow[]
}

/** Live runners as a tree (pool runners above their child processes), ordered by start. */
export async function readRunners(app: Nenc): Promise<RunnerRow[]> {
  const { orchestrator, stateBackend } = app.backend
  const beats = await orchestrator.getActiveRunners(runnerDeadAfter(app))
  const contexts = await Promise.all(beats.map((b) => stateBackend.getRunnerContext(b.runnerId)))
  const intervalMs = app.config.value<number>('orchestrator.atomicServiceIntervalMs')
  const eligible = beats.filter((b) => b.canRunAtomicService)
  const size = intervalMs / Math.max(1, eligible.length)
  const rows = beats.map((heartbeat, i): RunnerRow => {
    const p = eligible.indexOf(heartbeat)
    return {
      heartbeat,
      context: contexts[i] ?? null,
      atomicWindow:
        p < 0
          ? null
          : eligible.length === 1
            ? { slot: 1, of: 1, fromMs: 0, toMs: intervalMs, intervalMs }
            : {
                slot: p + 1,
                of: eligible.length,
                fromMs: Math.round(p * size),
                toMs: Math.round(p * size + size - size / 5),
                intervalMs,
              },
      children: [],
    }
  })
  const byId = new Map(rows.map((r) => [r.heartbeat.runnerId, r]))
  const roots: RunnerRow[] = []
  for (const r of rows) {
    const parent = r.context?.parentRunnerId ? byId.get(r.context.parentRunnerId) : undefined
    if (parent) parent.children.push(r)
    else roots.push(r)
  }
  return roots
}
