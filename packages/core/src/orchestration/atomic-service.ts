import type { RunnerHeartbeat } from '../interfaces/orchestrator.js'

/**
 * The atomic-service time slots (reference-behaviour §3.7): the period `intervalMs` is split
 * evenly among the active eligible runners ordered by their first heartbeat; runner `p` may run
 * global services while `now mod interval` is inside `[p·S, p·S + S − margin)` where
 * `S = interval / N` and the margin (a fifth of S) keeps neighbouring windows apart despite
 * clock skew. With one runner the window is always open. Pure, so it is unit-tested directly.
 */
export function isInServiceWindow(
  runnerId: string,
  active: readonly RunnerHeartbeat[],
  intervalMs: number,
  now: number,
): boolean {
  const eligible = active.filter((r) => r.canRunAtomicService)
  const position = eligible.findIndex((r) => r.runnerId === runnerId)
  if (position < 0) return false
  if (eligible.length === 1) return true
  const slot = intervalMs / eligible.length
  const margin = slot / 5
  const start = position * slot
  const phase = now % intervalMs
  return phase >= start && phase < start + slot - margin
}
