import { AVAILABLE_FOR_RUN_STATUSES } from '../invocation/status.js'
import type { NencRuntime } from '../runtime.js'
import { rerouteVia } from './claim.js'

export interface RecoveryReport {
  /** PENDING too long → PENDING_RECOVERY → REROUTED. */
  pending: string[]
  /** RUNNING/PAUSED/RESUMED of a dead runner → RUNNING_RECOVERY → REROUTED. */
  running: string[]
  /** Available for run while the queue is empty: lost between pop and claim, queued again. */
  requeued: string[]
}

const BATCH = 1000

/**
 * One recovery pass (reference-behaviour §3.5), run by one runner at a time through the
 * atomic-service slots. Every step is a guarded transition, so two passes racing each other (or
 * a runner that comes back) can only make one of them win per invocation.
 *
 * The third step closes a gap pynenc leaves open: a runner killed after popping ids from the
 * queue but before claiming them leaves them REGISTERED with no queue entry. They are queued
 * again only while the queue is empty, so a long backlog is never duplicated; a rare duplicate
 * from a concurrent pop is harmless because claims are atomic.
 */
export async function recoverInvocations(rt: NencRuntime, actor: string): Promise<RecoveryReport> {
  const { orchestrator, broker } = rt.backend
  const cfg = rt.config
  const pendingIds = await orchestrator.getPendingForRecovery(
    cfg.value<number>('orchestrator.maxPendingMs'),
    BATCH,
  )
  const pending = await rerouteVia(rt, pendingIds, 'pending_recovery', actor)
  const runningIds = await orchestrator.getRunningForRecovery(
    cfg.value<number>('orchestrator.runnerDeadAfterMs'),
    BATCH,
  )
  const running = await rerouteVia(rt, runningIds, 'running_recovery', actor)
  let requeued: string[] = []
  if ((await broker.count()) === 0) {
    const candidates = await orchestrator.listInvocations({
      statuses: AVAILABLE_FOR_RUN_STATUSES,
      limit: BATCH,
    })
    if (candidates.length) {
      const before = Date.now() - cfg.value<number>('orchestrator.lostQueuedAfterMs')
      const states = await orchestrator.getStates(candidates)
      requeued = candidates.filter((_, i) => {
        const s = states[i]
        return (
          s !== null &&
          s !== undefined &&
          s.timestamp < before &&
          AVAILABLE_FOR_RUN_STATUSES.includes(s.status)
        )
      })
      if (requeued.length) await broker.route(requeued)
    }
  }
  if (pending.length || running.length || requeued.length) {
    rt.logger.warn(
      { pending: pending.length, running: running.length, requeued: requeued.length },
      'recovered invocations',
    )
  }
  return { pending, running, requeued }
}
