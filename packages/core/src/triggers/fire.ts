import { sha256 } from '../ids.js'
import type { ResolvedTrigger } from './declare.js'
import { parseContext, type StoredContext, type ValidCondition } from './valid-conditions.js'

/** One run a trigger is due for: its claim id and the valid conditions that make it due. */
export interface DueRun {
  trigger: ResolvedTrigger
  runId: string
  conditions: { valid: ValidCondition; context: StoredContext }[]
}

export interface DuePlan {
  runs: DueRun[]
  /** Valid conditions every trigger that reads them has used (or that expired): to clear. */
  clear: string[]
}

/**
 * Decides which runs are due from the stored valid conditions (pynenc's trigger loop, steps 2–4).
 * AND: one run per complete set, taking the oldest valid condition of each of its conditions,
 * run id = hash(trigger id + sorted valid ids). OR: one run per valid condition. A valid condition
 * is cleared once every trigger that reads it has used it; the rest (half of an AND) wait until
 * `retentionMs` after they became valid, then are cleared unused.
 *
 * Triggers sharing a cron condition may have different missed policies: the ticks cover the
 * widest catch-up window, and each trigger ignores the ticks older than its own (a tick counts
 * as late, not missed, up to `lateToleranceMs`).
 */
export function planRuns(
  triggers: readonly ResolvedTrigger[],
  byCondition: ReadonlyMap<string, readonly ResolvedTrigger[]>,
  stored: readonly ValidCondition[],
  now: number,
  retentionMs: number,
  lateToleranceMs: number,
): DuePlan {
  const clear: string[] = []
  const live: { valid: ValidCondition; context: StoredContext }[] = []
  for (const v of stored) {
    const context = parseContext(v.context)
    if (!context || context.at < now - retentionMs) clear.push(v.id)
    else live.push({ valid: v, context })
  }
  const used = new Map<string, Set<string>>() // valid id → triggers that used it
  const use = (vid: string, tid: string) => {
    const s = used.get(vid) ?? new Set<string>()
    s.add(tid)
    used.set(vid, s)
  }
  const runs: DueRun[] = []
  for (const t of triggers) {
    const ids = new Set(t.conditions.map((c) => c.id))
    const window = Math.max(lateToleranceMs, t.missed === 'skip' ? 0 : t.missed.catchUpWithinMs)
    const mine = live
      .filter((l) => ids.has(l.valid.conditionId))
      .sort((a, b) => a.context.at - b.context.at || order(a.context) - order(b.context))
    const ignored = mine.filter(
      (l) => l.context.kind === 'cron' && l.context.at - l.context.scheduledAt > window,
    )
    for (const l of ignored) use(l.valid.id, t.id)
    const taken = mine.filter((l) => !ignored.includes(l))
    if (t.logic === 'or') {
      for (const m of taken) {
        runs.push({ trigger: t, runId: sha256(`${t.id}|${m.valid.id}`), conditions: [m] })
        use(m.valid.id, t.id)
      }
      continue
    }
    const queues = t.conditions.map((c) => taken.filter((m) => m.valid.conditionId === c.id))
    while (queues.every((q) => q.length > 0)) {
      const set = queues.map((q) => q.shift()!)
      const validIds = set.map((s) => s.valid.id)
      runs.push({ trigger: t, runId: sha256(`${t.id}|${[...validIds].sort().join('|')}`), conditions: set })
      for (const v of validIds) use(v, t.id)
    }
  }
  for (const l of live) {
    const readers = byCondition.get(l.valid.conditionId) ?? []
    const usedBy = used.get(l.valid.id)
    // One no trigger here reads (declared by another version of the app) is left to expire.
    if (readers.length > 0 && readers.every((r) => usedBy?.has(r.id))) clear.push(l.valid.id)
  }
  return { runs, clear }
}

/** Ticks of one pass in scheduled order; other contexts keep their insertion order. */
const order = (c: StoredContext): number => (c.kind === 'cron' ? c.scheduledAt : 0)
