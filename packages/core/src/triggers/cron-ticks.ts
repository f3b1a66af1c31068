import type { TriggerStore } from '../interfaces/trigger-store.js'
import type { CronEntry } from './registry.js'
import { type ValidCondition, validCondition } from './valid-conditions.js'

/** Scheduled times one pass takes per condition; the rest are taken by the next passes. */
export const MAX_TICKS_PER_PASS = 100

/**
 * Turns the scheduled times of each cron condition that are due at `now` into valid conditions,
 * once across any number of runners, and stores them. The valid conditions are written **before**
 * the stored last execution is advanced by compare-and-set: a valid condition's id is the
 * condition id and the scheduled time, so runners racing for one time write the same id (stored
 * once), and a runner killed between the two writes leaves the times recorded and the last
 * execution unmoved — the next pass computes and writes the same ids again, then advances it. A
 * time is never lost to a crash; its run id (trigger + valid id) is claimed once, so it fires once.
 *
 * - A condition seen for the first time is anchored at `now`: it fires from the next scheduled
 *   time on (a new trigger never fires for times before it existed).
 * - A time up to `lateToleranceMs` old is late, not missed (the atomic-service slot of a runner
 *   that died is unserved until its heartbeat times out): it fires.
 * - Older times were missed (no runner at all): skipped, or fired when within the trigger's
 *   catch-up window.
 *
 * `lastSeen` caches what this process last read or wrote: the stored value only grows, so a
 * condition whose next time after it is still in the future needs no read.
 */
export async function cronTicks(
  store: TriggerStore,
  entries: readonly CronEntry[],
  now: number,
  lateToleranceMs: number,
  lastSeen: Map<string, number>,
): Promise<ValidCondition[]> {
  // Returns the ticks this runner's compare-and-set took (already stored).
  const out: ValidCondition[] = []
  await Promise.all(
    entries.map(async (e) => {
      const cached = lastSeen.get(e.id)
      if (cached !== undefined) {
        const next = e.schedule.nextAfter(cached)
        if (next === null || next > now) return
      }
      const last = await store.getLastCronExecution(e.id)
      if (last === null) {
        if (await store.setLastCronExecution(e.id, null, now)) lastSeen.set(e.id, now)
        return
      }
      lastSeen.set(e.id, last)
      const lookback = Math.max(lateToleranceMs, e.catchUpWithinMs)
      const times = e.schedule.timesBetween(Math.max(last, now - lookback), now, MAX_TICKS_PER_PASS)
      if (times.length === 0) return
      const newest = times[times.length - 1]!
      const ticks = times.map((t) => validCondition(e.id, { at: now, kind: 'cron', scheduledAt: t }))
      await store.addValidConditions(ticks)
      if (!(await store.setLastCronExecution(e.id, last, newest))) {
        lastSeen.delete(e.id) // another runner took them (same ids); read again next time
        return
      }
      lastSeen.set(e.id, newest)
      out.push(...ticks)
    }),
  )
  return out
}
