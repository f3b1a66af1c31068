import { isValidStatusPath, type Orchestrator } from '@nenc/core'
import { expect } from 'vitest'

/**
 * Every invocation's history must be a path through the status machine starting at
 * REGISTERED, with non-decreasing timestamps. Every test of the suite ends with this check.
 */
export async function expectValidHistories(
  orchestrator: Orchestrator,
  ids: readonly string[],
): Promise<void> {
  for (const id of ids) {
    const history = await orchestrator.getHistory(id)
    expect(history.length, `history of ${id}`).toBeGreaterThan(0)
    const statuses = history.map((h) => h.status)
    const check = isValidStatusPath(statuses)
    expect(check.ok, `history of ${id} is not a valid path: ${statuses.join(' → ')}`).toBe(true)
    for (let i = 1; i < history.length; i++) {
      expect(history[i]!.timestamp, `timestamps of ${id}`).toBeGreaterThanOrEqual(history[i - 1]!.timestamp)
    }
    // Attempts: 0 at registration, one more at each PENDING entry, unchanged otherwise.
    let attempt = 0
    history.forEach((h, i) => {
      if (h.status === 'pending') attempt++
      expect(h.attempt, `attempt of entry ${i} (${h.status}) of ${id}: ${statuses.join(' → ')}`).toBe(attempt)
    })
  }
}

/** Resolves when `predicate` holds, polling every 10 ms; fails after `timeoutMs`. */
export async function eventually(
  predicate: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
