import type { ClaimBatch, ClaimedInvocation } from '../interfaces/fused-steps.js'
import type { InvocationState, TransitionOutcome } from '../interfaces/orchestrator.js'
import type { NencRuntime } from '../runtime.js'
import { stepsOf } from './composed-steps.js'
import { retryDelayMs } from './executor.js'
import { notYetDue } from './schedule.js'

export interface ClaimRound {
  /** Invocations now PENDING and owned by the runner, with their records. */
  claimed: ClaimedInvocation[]
  /** The round took ids from the queue (even if none could be claimed): the queue may hold more. */
  sawQueued: boolean
}

/**
 * The ids blocking control may start now. An invocation in RETRY waits out its backoff: the
 * broker holds it back as a delayed id, but blocking control reads the waits, not the queue, so
 * without this check an awaited child was retried within milliseconds whatever `retryBackoffMs`
 * said. The due time is the RETRY status's timestamp plus the delay the executor scheduled
 * ({@link retryDelayMs}); an id of a task this process does not know is left to the queue.
 * Likewise a REGISTERED scheduled call (`task.schedule`) waits for its `runAt`: its record is read
 * (one more round trip, only when a candidate is REGISTERED).
 */
async function dueForRun(rt: NencRuntime, ids: readonly string[]): Promise<string[]> {
  const states = await rt.backend.orchestrator.getStates(ids)
  const now = Date.now()
  const prefix = `${rt.appId}.`
  const registered = ids.filter((_, i) => states[i]?.status === 'registered')
  const later = await notYetDue(rt, registered, now)
  return ids.filter((id, i) => {
    const s = states[i]
    if (!s) return false
    if (later.has(id)) return false
    return s.status !== 'retry' || retryIsDue(rt, s, now, prefix)
  })
}

/**
 * A RETRY is due once its backoff has passed: the RETRY status's timestamp plus the delay the
 * executor scheduled. False for a task this process does not know (the queue holds it back).
 */
export function retryIsDue(
  rt: NencRuntime,
  s: Pick<InvocationState, 'taskId' | 'timestamp' | 'retries'>,
  now: number,
  prefix = `${rt.appId}.`,
): boolean {
  const task = s.taskId.startsWith(prefix) ? rt.getTask(s.taskId.slice(prefix.length)) : undefined
  if (!task) return false
  return s.timestamp + retryDelayMs(task, s.retries - 1) <= now
}

/**
 * One pick round (reference-behaviour §4.9): first invocations that others wait for (blocking
 * control, most waiters first), then the queue. What could not be claimed is settled by
 * {@link settleUnclaimed}. Claims come back PENDING, or with `start` those from the queue RUNNING.
 */
export async function getInvocationsToRun(
  rt: NencRuntime,
  max: number,
  runnerId: string,
  /** Move the queue's claims on to RUNNING in the same step (a runner that starts them at once). */
  start = false,
): Promise<ClaimRound> {
  if (max <= 0) return { claimed: [], sawQueued: false }
  const steps = stepsOf(rt.backend)
  const claimed: ClaimedInvocation[] = []
  const unclaimed: ClaimBatch['unclaimed'] = []
  if (rt.config.value<boolean>('orchestrator.blockingControl')) {
    const blocking = await rt.backend.orchestrator.getBlockingInvocations(max)
    if (blocking.length) {
      const due = await dueForRun(rt, blocking)
      if (due.length) {
        const b = await steps.claimIds(runnerId, due)
        claimed.push(...b.claimed)
        unclaimed.push(...b.unclaimed)
      }
    }
  }
  let sawQueued = false
  const room = max - claimed.length
  if (room > 0) {
    const q = await steps.claimQueued(runnerId, room, start)
    sawQueued = q.sawQueued
    // An id both awaited and queued was claimed above; its queue copy comes back `skipped`.
    claimed.push(...q.claimed)
    unclaimed.push(...q.unclaimed)
  }
  await settleUnclaimed(rt, unclaimed)
  return { claimed, sawQueued }
}

/**
 * What a claim could not take. A concurrency-blocked id parked on its key (CONCURRENCY_CONTROLLED)
 * needs nothing: the transition that releases the key wakes it ({@link wakeReleased}). A
 * deferred one (its status, RETRY, cannot be parked) is queued again after
 * `orchestrator.concurrencyRerouteDelayMs`; stale ids are dropped.
 */
export async function settleUnclaimed(rt: NencRuntime, unclaimed: ClaimBatch['unclaimed']): Promise<void> {
  const toDefer = unclaimed.filter((u) => u.outcome === 'deferred').map((u) => u.id)
  if (toDefer.length)
    await rt.backend.broker.route(toDefer, {
      delayMs: rt.config.value<number>('orchestrator.concurrencyRerouteDelayMs'),
    })
}

/**
 * Wakes the invocations that transitions released from their running key's parked list
 * (`TransitionOutcome.released`): CONCURRENCY_CONTROLLED → REROUTED, queued again. Called after
 * every batch of transitions core makes that can leave the active statuses. If this process dies
 * before it is done, recovery offers a parked invocation again after `orchestrator.parkedRecheckMs`.
 */
export async function wakeReleased(
  rt: NencRuntime,
  actor: string,
  outcomes: readonly TransitionOutcome[],
): Promise<void> {
  const ids = outcomes.flatMap((o) => (o.ok && o.released?.length ? o.released : []))
  if (ids.length === 0) return
  const out = await rt.backend.orchestrator.transition(
    ids.map((id) => ({ id, to: 'rerouted' as const, actor })),
  )
  const woken = ids.filter((_, i) => out[i]!.ok)
  if (woken.length) await rt.backend.broker.route(woken)
}

/**
 * Moves invocations through `via` to REROUTED and queues them again: the two-step reroute shared
 * by kill-and-reroute (`killed`) and recovery (`pending_recovery`, `running_recovery`). Ids whose
 * first step is rejected (already final, no longer owned, recovered by someone else) are left
 * alone. Returns the ids actually rerouted.
 */
export async function rerouteVia(
  rt: NencRuntime,
  ids: readonly string[],
  via: 'killed' | 'pending_recovery' | 'running_recovery',
  actor: string,
  attemptOf?: (id: string) => number | undefined,
): Promise<string[]> {
  if (ids.length === 0) return []
  const { orchestrator, broker } = rt.backend
  const first = await orchestrator.transition(
    ids.map((id) => ({ id, to: via, actor, attempt: attemptOf?.(id) })),
  )
  warnStale(rt, ids, first)
  await wakeReleased(rt, actor, first)
  const moved = ids.filter((_, i) => first[i]!.ok)
  if (moved.length === 0) return []
  const second = await orchestrator.transition(moved.map((id) => ({ id, to: 'rerouted' as const, actor })))
  const rerouted = moved.filter((_, i) => second[i]!.ok)
  if (rerouted.length) await broker.route(rerouted)
  return rerouted
}

/**
 * Kill-and-reroute (reference-behaviour §4.1): KILLED then REROUTED by the owning runner, then
 * queued again. Ids already final (or no longer owned) are left alone: the reroute is a no-op.
 * With `attemptOf` (the runner knows what it claimed) the KILLED step is fenced by attempt.
 */
export const killAndReroute = (
  rt: NencRuntime,
  ids: readonly string[],
  actor: string,
  attemptOf?: (id: string) => number | undefined,
): Promise<string[]> => rerouteVia(rt, ids, 'killed', actor, attemptOf)

/**
 * Logs the writes a stale attempt tried (warn: a runner was presumed dead and its invocation
 * claimed again; the write was refused and nothing of it was stored where readers look).
 */
export function warnStale(
  rt: NencRuntime,
  ids: readonly string[],
  outcomes: readonly TransitionOutcome[],
): void {
  outcomes.forEach((o, i) => {
    if (o.ok || o.reason !== 'stale') return
    rt.logger.warn(
      {
        invocationId: ids[i],
        attempt: o.attempt,
        staleAttempt: o.attempt,
        currentAttempt: o.current.attempt,
        status: o.current.status,
      },
      'stale attempt: a newer attempt holds this invocation; the write was refused',
    )
  })
}

/**
 * Gives back claimed invocations that could not be started: PENDING → REROUTED and queued again.
 * When the start's RUNNING transition was applied but its reply was lost (the backend dropped
 * the connection), the invocation is RUNNING and still ours: it goes KILLED → REROUTED instead,
 * or it would stay RUNNING under a live runner that recovery never touches. Throws when the
 * backend is unreachable; the caller keeps the ids and tries again.
 */
export async function rerouteUnstarted(
  rt: NencRuntime,
  ids: readonly string[],
  actor: string,
  attemptOf?: (id: string) => number | undefined,
): Promise<void> {
  if (ids.length === 0) return
  const out = await rt.backend.orchestrator.transition(
    ids.map((id) => ({ id, to: 'rerouted' as const, actor, attempt: attemptOf?.(id) })),
  )
  warnStale(rt, ids, out)
  await wakeReleased(rt, actor, out)
  const ok = ids.filter((_, i) => out[i]!.ok)
  const running = ids.filter((_, i) => {
    const o = out[i]!
    return (
      !o.ok &&
      o.reason === 'invalid_transition' &&
      o.current.status === 'running' &&
      o.current.owner === actor
    )
  })
  if (ok.length) await rt.backend.broker.route(ok)
  if (running.length) await killAndReroute(rt, running, actor, attemptOf)
}
