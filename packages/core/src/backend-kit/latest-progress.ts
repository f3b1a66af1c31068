import type { ProgressRecord } from '../interfaces/state-backend.js'

/**
 * Backend kit: one record per id out of a `setProgress` batch — the one a sequential store would
 * keep (the highest attempt; within an attempt, the later one). Backends that write a batch in
 * one statement (an upsert cannot touch a row twice) store this instead of the raw batch.
 */
export function latestProgress(items: readonly ProgressRecord[]): ProgressRecord[] {
  const latest = new Map<string, ProgressRecord>()
  for (const it of items) {
    const seen = latest.get(it.id)
    if (!seen || seen.attempt <= it.attempt) latest.set(it.id, it)
  }
  return [...latest.values()]
}
