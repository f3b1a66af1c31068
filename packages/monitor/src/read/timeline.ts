import type { InvocationStatus, Nenc } from '@nenc/core'
import { attemptsOf } from './invocation.js'
import { listPage } from './listing.js'

/** One attempt drawn on its runner's lane. */
export interface Segment {
  id: string
  task: string
  attempt: number
  runner: string
  start: number
  end: number
  /** Last status of the attempt (its colour). */
  status: InvocationStatus
  parentId: string | null
}

export interface Timeline {
  from: number
  to: number
  lanes: string[]
  segments: Segment[]
}

/**
 * The attempts of the latest `max` invocations created since `from`: one lane per runner that
 * owned an attempt, a segment from the attempt's claim to its last status change (to `now` while
 * it still runs).
 */
export async function readTimeline(
  app: Nenc,
  from: number,
  max: number,
  now = Date.now(),
): Promise<Timeline> {
  const page = await listPage(app, { statuses: [], from }, max)
  const histories = await Promise.all(page.rows.map((r) => app.backend.orchestrator.getHistory(r.state.id)))
  const segments: Segment[] = []
  page.rows.forEach((r, i) => {
    const history = histories[i]!
    for (const a of attemptsOf(history)) {
      if (!a.runner) continue
      const entries = history.filter((h) => h.attempt === a.attempt)
      const start = entries[0]!.timestamp
      const live =
        r.state.attempt === a.attempt &&
        !['success', 'failed'].includes(a.last.status) &&
        a.last.status !== 'concurrency_controlled_final'
      segments.push({
        id: r.state.id,
        task: r.record?.taskName ?? r.state.taskId,
        attempt: a.attempt,
        runner: a.runner,
        start,
        end: live && a.last.status === 'running' ? now : Math.max(a.last.timestamp, start + 1),
        status: a.last.status,
        parentId: r.record?.parentId ?? null,
      })
    }
  })
  const lanes = [...new Set(segments.map((s) => s.runner))].sort()
  const start = segments.length ? Math.min(...segments.map((s) => s.start)) : from
  const end = segments.length ? Math.max(...segments.map((s) => s.end)) : now
  return { from: start, to: Math.max(end, start + 1), lanes, segments }
}
