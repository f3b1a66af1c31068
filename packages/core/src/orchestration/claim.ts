import type { InvocationState } from '../interfaces/orchestrator.js'
import type { NencRuntime } from '../runtime.js'
import { retryDelayMs } from './executor.js'

export interface ClaimRound {
  /** Invocations now PENDING and owned by the runner. */
  claimed: InvocationState[]
  /** The round took ids from the queue (even if none could be claimed): the queue may hold more. */
  sawQueued: boolean
}

/**
 * The ids blocking control may start now. An invocation in RETRY waits out its backoff: the
 * broker holds it back as a delayed id, but blocking control reads the waits, not the queue, so
 * without this check an awaited child was retried within milliseconds whatever `retryBackoffMs`
 * said. The due time is the RETRY status's timestamp plus the delay the executor scheduled
 * ({@link retryDelayMs}); an id of a task this process does not know is left to the queue.
 */
async function dueForRun(rt: NencRuntime, ids: readonly string[]): Promise<string[]> {
  const states = await rt.backend.orchestrator.getStates(ids)
  const now = Date.now()
  const prefix = `${rt.appId}.`
  return ids.filter((_, i) => {
    const s = states[i]
    if (!s) return false
    if (s.status !== 'retry') return true
    const task = s.taskId.startsWith(prefix) ? rt.getTask(s.taskId.slice(prefix.length)) : undefined
    if (!task) return false
    return s.timestamp + retryDelayMs(task, s.retries - 1) <= now
  })
}

/**
 * One pick round (reference-behaviour §4.9): first invocations that others wait for (blocking
 * control, most waiters first), then the queue. Concurrency-blocked ids are rerouted with a delay
 * so a blocked invocation is not spun through the queue; stale ids are dropped.
 */
export async function getInvocationsToRun(
  rt: NencRuntime,
  max: number,
  runnerId: string,
): Promise<ClaimRound> {
  const { orchestrator, broker } = rt.backend
  const claimed: InvocationState[] = []
  const toReroute: string[] = []
  const toDefer: string[] = []
  let sawQueued = false
  if (max <= 0) return { claimed, sawQueued }

  const take = async (ids: string[]) => {
    for (const o of await orchestrator.claim(ids, runnerId)) {
      if (o.outcome === 'claimed') claimed.push(o.state)
      else if (o.outcome === 'controlled') toReroute.push(o.id)
      else if (o.outcome === 'deferred') toDefer.push(o.id)
    }
  }

  if (rt.config.value<boolean>('orchestrator.blockingControl')) {
    const blocking = await orchestrator.getBlockingInvocations(max)
    if (blocking.length) {
      const due = await dueForRun(rt, blocking)
      if (due.length) await take(due)
    }
  }
  const room = max - claimed.length
  if (room > 0) {
    const queued = await broker.retrieve(room)
    if (queued.length) {
      sawQueued = true
      const mine = new Set(claimed.map((c) => c.id))
      const fresh = [...new Set(queued)].filter((id) => !mine.has(id))
      if (fresh.length) await take(fresh)
    }
  }

  const delayMs = rt.config.value<number>('orchestrator.concurrencyRerouteDelayMs')
  if (toReroute.length) {
    const outcomes = await orchestrator.transition(
      toReroute.map((id) => ({ id, to: 'rerouted' as const, actor: runnerId })),
    )
    toDefer.push(...toReroute.filter((_, i) => outcomes[i]!.ok))
  }
  if (toDefer.length) await broker.route(toDefer, { delayMs })
  return { claimed, sawQueued }
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
): Promise<string[]> {
  if (ids.length === 0) return []
  const { orchestrator, broker } = rt.backend
  const first = await orchestrator.transition(ids.map((id) => ({ id, to: via, actor })))
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
 */
export const killAndReroute = (rt: NencRuntime, ids: readonly string[], actor: string): Promise<string[]> =>
  rerouteVia(rt, ids, 'killed', actor)

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
): Promise<void> {
  if (ids.length === 0) return
  const out = await rt.backend.orchestrator.transition(
    ids.map((id) => ({ id, to: 'rerouted' as const, actor })),
  )
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
  if (running.length) await killAndReroute(rt, running, actor)
}
