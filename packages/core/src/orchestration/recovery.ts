import type { InvocationState } from '../interfaces/orchestrator.js'
import { AVAILABLE_FOR_RUN_STATUSES, type InvocationStatus } from '../invocation/status.js'
import type { NencRuntime } from '../runtime.js'
import { rerouteVia, retryIsDue } from './claim.js'
import { notYetDue } from './schedule.js'

export interface RecoveryReport {
  /** PENDING too long → PENDING_RECOVERY → REROUTED. */
  pending: string[]
  /** RUNNING/PAUSED/RESUMED of a dead runner → RUNNING_RECOVERY → REROUTED. */
  running: string[]
  /** Available for run while the queue is empty: lost between pop and claim, queued again. */
  requeued: string[]
  /**
   * Stranded half-way through a two-step move (KILLED, PENDING_RECOVERY, RUNNING_RECOVERY) for
   * longer than `orchestrator.stuckAfterMs`, or parked in CONCURRENCY_CONTROLLED for longer than
   * `orchestrator.parkedRecheckMs` → REROUTED, queued again.
   */
  stuck: string[]
}

const BATCH = 1000

/**
 * Non-final statuses that no owner holds and that a live runner leaves at once for REROUTED: a
 * runner killed between the two steps (kill → reroute, recovery → reroute) strands the
 * invocation there. Each may go to REROUTED only. CONCURRENCY_CONTROLLED is not one of them: an
 * invocation waits there, parked on its running key, for as long as the key is held; it is
 * offered again only after `orchestrator.parkedRecheckMs`, in case its wake-up was lost.
 */
export const STRANDABLE_STATUSES: readonly InvocationStatus[] = [
  'killed',
  'pending_recovery',
  'running_recovery',
]

/**
 * Moves invocations stranded in a {@link STRANDABLE_STATUSES} status for longer than `stuckAfterMs`
 * to REROUTED and queues them again. Uses only `listInvocations`, `getStates` and `transition`,
 * so it works the same on every backend. The REROUTED transition is the guard: when the live
 * runner that put the invocation there finishes its own second step first, ours is rejected
 * (REROUTED → REROUTED is not allowed) and the id is left alone, and vice versa, so it is
 * queued exactly once.
 */
async function rerouteStuck(
  rt: NencRuntime,
  actor: string,
  statuses: readonly InvocationStatus[],
  afterMs: number,
): Promise<string[]> {
  const { orchestrator, broker } = rt.backend
  const old = (await inStatusSince(rt, statuses, Date.now() - afterMs)).map((s) => s.id)
  if (old.length === 0) return []
  const out = await orchestrator.transition(old.map((id) => ({ id, to: 'rerouted' as const, actor })))
  const rerouted = old.filter((_, i) => out[i]!.ok)
  if (rerouted.length) await broker.route(rerouted)
  return rerouted
}

/**
 * The states of up to {@link BATCH} invocations in one of `statuses` whose status was entered before `before` (ms
 * epoch), through `listInvocations` and `getStates` only, so every backend answers alike. The
 * state is read again after the listing: an id that moved on in between is left out.
 */
async function inStatusSince(
  rt: NencRuntime,
  statuses: readonly InvocationStatus[],
  before: number,
): Promise<InvocationState[]> {
  const { orchestrator } = rt.backend
  const candidates = await orchestrator.listInvocations({ statuses, limit: BATCH })
  if (candidates.length === 0) return []
  const states = await orchestrator.getStates(candidates)
  return states.filter(
    (s): s is InvocationState => s != null && s.timestamp < before && statuses.includes(s.status),
  )
}

/**
 * One recovery pass (reference-behaviour §3.5), run by one runner at a time through the
 * atomic-service slots. Every step is a guarded transition, so two passes racing each other (or
 * a runner that comes back) can only make one of them win per invocation.
 *
 * The third step closes a gap pynenc leaves open: a runner killed after popping ids from the
 * queue but before claiming them leaves them REGISTERED with no queue entry. They are queued
 * again only while the queue is empty, so a long backlog is never duplicated; a rare duplicate
 * from a concurrent pop is harmless because claims are atomic.
 *
 * The fourth step makes every non-final status reachable by recovery: an invocation left in
 * CONCURRENCY_CONTROLLED, KILLED, PENDING_RECOVERY or RUNNING_RECOVERY by a runner killed between
 * the two steps of a reroute is rerouted once its status is older than `orchestrator.stuckAfterMs`.
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
    const lost = await inStatusSince(
      rt,
      AVAILABLE_FOR_RUN_STATUSES,
      Date.now() - cfg.value<number>('orchestrator.lostQueuedAfterMs'),
    )
    // A scheduled call (REGISTERED with a later runAt) and a RETRY within its backoff wait in the
    // queue as delayed ids, which the count leaves out: they are not lost. Records are read only
    // for the REGISTERED ones (as blocking control does).
    const now = Date.now()
    const later = await notYetDue(
      rt,
      lost.filter((s) => s.status === 'registered').map((s) => s.id),
      now,
    )
    requeued = lost
      .filter((s) => !later.has(s.id) && (s.status !== 'retry' || retryIsDue(rt, s, now)))
      .map((s) => s.id)
    if (requeued.length) await broker.route(requeued)
  }
  const stuck = [
    ...(await rerouteStuck(rt, actor, STRANDABLE_STATUSES, cfg.value<number>('orchestrator.stuckAfterMs'))),
    ...(await rerouteStuck(
      rt,
      actor,
      ['concurrency_controlled'],
      cfg.value<number>('orchestrator.parkedRecheckMs'),
    )),
  ]
  if (pending.length || running.length || requeued.length || stuck.length) {
    rt.logger.warn(
      {
        pending: pending.length,
        running: running.length,
        requeued: requeued.length,
        stuck: stuck.length,
      },
      'recovered invocations',
    )
  }
  return { pending, running, requeued, stuck }
}
