import { type HistoryEntry, type InvocationState, isStatus } from '@nenc/core'
import { corrupt } from './errors-from-code.js'

/** Separator of the compact history entries (`status US owner US actor US time`). */
export const HISTORY_SEPARATOR = '\u001f'

type Reply = string | number | null

/**
 * Reads the state fields `status, owner, time, retries, task id` the scripts return at `at`.
 * The scripts validated the status already; null when the id is unknown.
 */
export function stateAt(reply: readonly Reply[], at: number, id: string): InvocationState | null {
  const status = reply[at]
  if (status === null || status === undefined) return null
  if (!isStatus(status)) throw corrupt(`the orchestrator record of ${id}`, `unknown status ${String(status)}`)
  const owner = reply[at + 1]
  return {
    id,
    taskId: String(reply[at + 4] ?? ''),
    status,
    owner: owner === null || owner === '' ? null : String(owner),
    timestamp: Number(reply[at + 2]),
    retries: Number(reply[at + 3]),
  }
}

/** Parses one history list, oldest first; an entry nenc did not write is `CorruptDataError`. */
export function parseHistory(entries: readonly string[], location: string): HistoryEntry[] {
  return entries.map((raw, i) => {
    const parts = raw.split(HISTORY_SEPARATOR)
    const timestamp = Number(parts[3])
    if (parts.length !== 4 || !isStatus(parts[0]) || !Number.isFinite(timestamp))
      throw corrupt(location, `history entry ${i} is not a nenc history entry`)
    return {
      status: parts[0],
      owner: parts[1] || null,
      actor: parts[2] || null,
      timestamp,
    }
  })
}
