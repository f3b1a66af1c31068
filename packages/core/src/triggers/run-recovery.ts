import { sha256 } from '../ids.js'
import type { DueRun } from './fire.js'

/**
 * The invocation id of a trigger run, derived from its run id: every evaluator of one run routes
 * the same id, and registering an existing id is a no-op, so a run routed twice (by a recovery
 * racing a slow first claimant) is still one invocation. UUID-shaped (version 8, custom) with
 * the run's due time (its newest condition) as the leading 48 bits, so ids stay roughly
 * time-ordered like the UUIDv7 ids of other calls.
 */
export function triggerRunInvocationId(run: DueRun): string {
  const h = sha256(`trigger-run\u0000${run.runId}`)
  const dueAt = Math.max(0, ...run.conditions.map((c) => c.context.at))
  const time = Math.min(dueAt, 0xffff_ffff_ffff).toString(16).padStart(12, '0')
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-8${h.slice(0, 3)}-${variant}${h.slice(3, 6)}-${h.slice(6, 18)}`
}

/** The key that settles a run for good: taken by a recovery, or by the claimant that dropped the run. */
export const settledKey = (runId: string): string => `${runId}|settled`

/**
 * Runs this process saw claimed by someone else with no invocation yet, and since when (pass
 * clock). A claimant killed between its claim and its route leaves such a run: its conditions
 * stay stored (the claimant never cleared them) and, once the run has been in doubt for
 * `afterMs` as seen here, this process may recover it. Kept per process on purpose: a claimant
 * that is merely slow routes within milliseconds, long before any observer's grace ends.
 */
export class RunsInDoubt {
  private readonly since = new Map<string, number>()

  /**
   * Records this pass's runs in doubt and returns those in doubt for at least `afterMs`.
   * Runs no longer in doubt are forgotten (the map holds only what the last pass saw).
   */
  observe(runIds: readonly string[], now: number, afterMs: number): Set<string> {
    const seen = new Set(runIds)
    for (const id of this.since.keys()) if (!seen.has(id)) this.since.delete(id)
    const due = new Set<string>()
    for (const id of runIds) {
      const first = this.since.get(id) ?? now
      this.since.set(id, first)
      if (now - first >= afterMs) due.add(id)
    }
    return due
  }

  forget(runId: string): void {
    this.since.delete(runId)
  }
}
