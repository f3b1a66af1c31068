import { CorruptDataError, type HistoryEntry } from '@nenc/core'
import { BACKEND } from './pg-errors.js'
import { storedNumber, storedStatus } from './status-rules.js'

/**
 * An invocation's status history lives in its own row (`invocations.history`), newest entry
 * first: each status write prepends one line. A row of its own per entry cost a heap tuple and
 * a primary-key entry per transition (~1.5 KB of WAL per invocation, over a quarter of it); a
 * prepended line costs only its own bytes, because PostgreSQL logs an update on the same page
 * as the span between the unchanged prefix and suffix of the row, and the old history is the
 * new row's suffix.
 *
 * A line is the JSON array `[status,attempt,ts,actor,owner]` and `\n` (JSON text never holds a
 * raw newline). Runner ids are long and repeat, so two codes stand for one: `actor` is `2` when
 * it is the owner before the change (a runner moving its own invocation on) and `owner` is `1`
 * when it is the actor (a runner taking or keeping one). A typical invocation writes its
 * runner's id once, not three times. `ownerBefore` is the owner the row had before this entry.
 */
export const historyEntrySql = (
  status: string,
  attempt: string,
  ts: string,
  actor: string,
  owner: string,
  ownerBefore: string,
) =>
  `('[' || to_json(${status}::text)::text || ',' || ${attempt} || ',' || ${ts} || ',' ||
     CASE WHEN ${actor} = ${ownerBefore} THEN '2' ELSE coalesce(to_json(${actor}::text)::text, 'null') END || ',' ||
     CASE WHEN ${owner} = ${actor} THEN '1' ELSE coalesce(to_json(${owner}::text)::text, 'null') END || E']\n')`

/** The stored history of invocation `id` (`invocations.history`, newest line first), oldest first. */
export function decodeHistory(stored: string, id: string): HistoryEntry[] {
  const where = `history of ${id}`
  const entries: HistoryEntry[] = []
  const lines = stored.split('\n').reverse()
  let ownerBefore: string | null = null
  for (const line of lines) {
    if (line === '') continue
    let fields: unknown
    try {
      fields = JSON.parse(line)
    } catch {
      throw new CorruptDataError(BACKEND, where, `"${line.slice(0, 80)}" is not a history entry`)
    }
    if (!Array.isArray(fields) || fields.length !== 5)
      throw new CorruptDataError(BACKEND, where, `"${line.slice(0, 80)}" is not a history entry`)
    const [status, attempt, ts, actor, owner] = fields as unknown[]
    const text = (v: unknown, what: string): string | null => {
      if (v === null || typeof v === 'string') return v
      throw new CorruptDataError(BACKEND, where, `${what} "${String(v)}" is not a runner id`)
    }
    const actorId: string | null = actor === 2 ? ownerBefore : text(actor, 'actor')
    const ownerAfter: string | null = owner === 1 ? actorId : text(owner, 'owner')
    entries.push({
      status: storedStatus(status, where),
      owner: ownerAfter,
      actor: actorId,
      timestamp: storedNumber(ts, where),
      attempt: storedNumber(attempt, where),
    })
    ownerBefore = ownerAfter
  }
  return entries
}
