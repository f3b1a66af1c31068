import { CorruptDataError, InvalidScheduleError } from '../errors.js'
import type { Backend } from '../interfaces/backend.js'
import type { RegisterRequest, RegisterResult } from '../interfaces/orchestrator.js'
import type { InvocationRecord } from '../interfaces/state-backend.js'
import type { NencRuntime } from '../runtime.js'
import type { ScheduleOptions } from '../task.js'

/**
 * Checks a `schedule(when)` argument and returns what gives each call's run time (ms epoch): a
 * delay counts from each call, a time is fixed. Throws `InvalidScheduleError` naming the task.
 */
export function runAtOf(taskName: string, when: ScheduleOptions): () => number {
  if (typeof when !== 'object' || when === null)
    throw new InvalidScheduleError(taskName, 'expected { delayMs } or { runAt }.')
  const hasDelay = when.delayMs !== undefined
  const hasTime = when.runAt !== undefined
  if (hasDelay === hasTime) throw new InvalidScheduleError(taskName, 'give exactly one of delayMs and runAt.')
  if (hasDelay) {
    const d = when.delayMs
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0)
      throw new InvalidScheduleError(taskName, `delayMs must be a finite number ≥ 0, got ${String(d)}.`)
    return () => Date.now() + d
  }
  const t = when.runAt instanceof Date ? when.runAt.getTime() : when.runAt
  if (typeof t !== 'number' || !Number.isFinite(t))
    throw new InvalidScheduleError(
      taskName,
      `runAt must be a valid Date or ms since epoch, got ${String(when.runAt)}.`,
    )
  return () => t
}

/**
 * Routes scheduled calls: the records (carrying `runAt`), their registration, then the new ids
 * queued with the delay left until `runAt` (the broker keeps delayed ids durably, as it does for
 * retry backoff). Three writes one after the other, not the fused route step, which queues at
 * once: if the process dies after the registration, the invocation is REGISTERED without a queue
 * entry and recovery queues it — only once it is due (see {@link notYetDue}).
 */
export async function routeScheduled(
  backend: Backend,
  records: readonly InvocationRecord[],
  requests: readonly RegisterRequest[],
  runAt: number,
): Promise<RegisterResult[]> {
  await backend.stateBackend.upsertInvocations(records)
  const results = await backend.orchestrator.register(requests)
  const fresh = results.filter((r) => !r.reused).map((r) => r.id)
  // The delay is taken after the writes, so it is never shorter than what is left.
  if (fresh.length) await backend.broker.route(fresh, { delayMs: Math.max(0, runAt - Date.now()) })
  return results
}

/**
 * The ids among `ids` whose record says they are scheduled later than `now`: blocking control and
 * recovery read the orchestrator, not the queue that holds them back, and must leave them alone.
 * One `getInvocations` round trip.
 */
export async function notYetDue(rt: NencRuntime, ids: readonly string[], now: number): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  let records: Awaited<ReturnType<typeof rt.backend.stateBackend.getInvocations>>
  try {
    records = await rt.backend.stateBackend.getInvocations(ids)
  } catch (err) {
    // An unreadable record fails its own invocation once claimed (withRecords); not our call.
    if (err instanceof CorruptDataError) return new Set()
    throw err
  }
  return new Set(records.flatMap((r) => (r?.runAt !== undefined && r.runAt > now ? [r.id] : [])))
}
