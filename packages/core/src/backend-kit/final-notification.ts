import type { FinalOutcomes } from '../interfaces/orchestrator.js'
import type { Outcome } from '../interfaces/state-backend.js'

/**
 * Backend kit: reads a final-status notification's payload — a JSON array whose entries are an
 * id, or an array whose first element is the id and whose rest carries the outcome stored with
 * the final status (each backend's own encoding, decoded by `outcomeOf`). Anything else is not
 * ours (a foreign publisher on the channel) and yields null; an outcome `outcomeOf` cannot read
 * (it throws or returns null) is left out, so the waiter reads the stored one instead.
 */
export function readFinalNotification(
  payload: string,
  outcomeOf: (entry: readonly unknown[]) => Outcome | null,
): { ids: string[]; outcomes: FinalOutcomes | undefined } | null {
  let entries: unknown
  try {
    entries = JSON.parse(payload)
  } catch {
    return null
  }
  if (!Array.isArray(entries) || entries.length === 0) return null
  const ids: string[] = []
  const outcomes = new Map<string, Outcome>()
  for (const e of entries) {
    if (typeof e === 'string') ids.push(e)
    else if (Array.isArray(e) && typeof e[0] === 'string') {
      ids.push(e[0])
      try {
        const outcome = outcomeOf(e)
        if (outcome) outcomes.set(e[0], outcome)
      } catch {
        // Not an outcome the backend wrote: the waiter reads the stored one.
      }
    }
  }
  return ids.length ? { ids, outcomes: outcomes.size ? outcomes : undefined } : null
}
