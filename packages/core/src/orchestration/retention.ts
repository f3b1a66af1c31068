import type { InvocationRecord } from '../interfaces/state-backend.js'
import { FINAL_STATUSES, type InvocationStatus } from '../invocation/status.js'
import type { NencRuntime } from '../runtime.js'

/** What one sweep did. */
export interface RetentionReport {
  /** Ids removed from every component (state, history, record, outcomes, progress). */
  removed: string[]
  /** Finished ids old enough but kept: their parent or their workflow's root is still running. */
  kept: number
  /** Where the listing stopped when the sweep ran out of pages (pass it as `cursor` to go on); null once it ended. */
  next: string | null
}

export interface SweepOptions {
  /** Remove invocations created and finished strictly before this time (ms epoch). */
  cutoff: number
  /** Ids listed per page. @default 500 */
  pageSize?: number
  /**
   * Pages read before the sweep stops (the atomic-service slot bounds its work with it); the
   * next sweep starts from the newest again. @default unbounded
   */
  maxPages?: number
  /**
   * Start here (a previous report's `next`) rather than at the newest: finished invocations kept
   * for a running workflow would otherwise fill every bounded sweep and hide the older ones
   * behind them. Keyset cursors stay valid while invocations are removed.
   */
  cursor?: string | null
}

const FINAL: ReadonlySet<InvocationStatus> = new Set(FINAL_STATUSES)

/**
 * Removes finished invocations whose creation and final status are both older than `cutoff`:
 * their records, outcomes and progress (`StateBackend.deleteInvocations`), then their status and
 * history (`Orchestrator.deleteFinalInvocations`). Uses only contract methods, so every backend,
 * and any mix of them, sweeps alike.
 *
 * A finished child of a parent that is not final, and any finished invocation of a workflow whose
 * root is not final, is kept: the running parent may still read its result, and replaying the
 * workflow needs its finished steps. They are removed by a later sweep once the parent and root
 * have finished (and aged).
 *
 * Large values (`ClientDataStore`) are stored once by content hash and may be shared by any
 * number of invocations, old and new, so they are not removed here.
 */
export async function sweepFinished(rt: NencRuntime, options: SweepOptions): Promise<RetentionReport> {
  const { orchestrator, stateBackend } = rt.backend
  const pageSize = options.pageSize ?? 500
  const maxPages = options.maxPages ?? Number.POSITIVE_INFINITY
  const removed: string[] = []
  let kept = 0
  let cursor: string | null = options.cursor ?? null
  let pages = 0
  do {
    const page = await orchestrator.pageInvocations({
      statuses: FINAL_STATUSES,
      createdBefore: options.cutoff,
      limit: pageSize,
      cursor,
    })
    pages++
    cursor = page.next
    if (page.ids.length === 0) continue
    const states = await orchestrator.getStates(page.ids)
    // The listing filters on creation time only; the final status must itself be old enough.
    const old = page.ids.filter((_, i) => {
      const s = states[i]
      return s != null && FINAL.has(s.status) && s.timestamp < options.cutoff
    })
    if (old.length === 0) continue
    const records = await stateBackend.getInvocations(old)
    const blocked = await stillNeeded(rt, records)
    const victims = old.filter((id) => !blocked.has(id))
    kept += blocked.size
    if (victims.length === 0) continue
    // The state backend's part first: a sweep that dies in between leaves final states whose
    // records are gone, which the next sweep lists and removes again (final statuses never
    // change, so no runner writes to them meanwhile). The other order would leave records and
    // outcomes no listing ever finds again.
    await stateBackend.deleteInvocations(victims)
    const gone = await orchestrator.deleteFinalInvocations(victims)
    rt.waiter.forget(gone)
    removed.push(...gone)
  } while (cursor && pages < maxPages)
  return { removed, kept, next: cursor }
}

/**
 * The ids among `records` whose parent, or whose workflow's root, is known and not final. A
 * record that is missing (removed from the state backend already) has nothing to protect it.
 */
async function stillNeeded(
  rt: NencRuntime,
  records: readonly (InvocationRecord | null)[],
): Promise<Set<string>> {
  const guards = new Map<string, string[]>() // invocation id → ids that must be final first
  for (const r of records) {
    if (!r) continue
    const ids = [r.parentId, r.workflow.id].filter((g): g is string => g != null && g !== r.id)
    if (ids.length) guards.set(r.id, ids)
  }
  if (guards.size === 0) return new Set()
  const guardIds = [...new Set([...guards.values()].flat())]
  const states = await rt.backend.orchestrator.getStates(guardIds)
  const running = new Set(guardIds.filter((_, i) => states[i] != null && !FINAL.has(states[i]!.status)))
  const out = new Set<string>()
  for (const [id, ids] of guards) if (ids.some((g) => running.has(g))) out.add(id)
  return out
}
