import type { Document } from 'mongodb'

/**
 * Parking on a running key lives in the invocation documents themselves: a claim that finds the
 * key held moves the invocation to CONCURRENCY_CONTROLLED and sets `parked` (a park sequence) in
 * the same guarded write. The parked list of a key is then "status CONCURRENCY_CONTROLLED, this
 * running key, `parked` set", oldest (smallest sequence) first, served by the partial index
 * {@link PARKED_INDEX}, which holds parked invocations only. An entry leaves the list when a
 * release takes it ({@link unparkOldest}, one atomic `findOneAndUpdate`, so one releaser gets
 * it) or when the invocation leaves CONCURRENCY_CONTROLLED (the transition unsets `parked`).
 * Purge and the TTL index remove parked entries with their documents.
 */
export const PARKED_INDEX = {
  name: 'nenc_parked',
  key: { runningKey: 1, parked: 1, _id: 1 },
  partialFilterExpression: { parked: { $type: 'number' } },
} as const

/** Ids per millisecond a park sequence can tell apart: `ms × SEQ_PER_MS` stays below 2^53 for ~270,000 years. */
export const SEQ_PER_MS = 1024

/**
 * Park sequence numbers: time-ordered across processes (ms epoch × {@link SEQ_PER_MS}) and
 * strictly increasing within one, so invocations parked in the same millisecond by one claimer
 * keep their order. Claimers whose clocks differ order their parks by their clocks; equal
 * sequences are ordered by id.
 */
export class ParkSequence {
  private last = 0

  next(now: number): number {
    this.last = Math.max(Math.floor(now) * SEQ_PER_MS, this.last + 1)
    return this.last
  }
}

/** The running key's parked list, as a filter: parked on `key` and still CONCURRENCY_CONTROLLED. */
export function parkedOnFilter(key: string): Document {
  return { runningKey: key, parked: { $type: 'number' }, status: 'concurrency_controlled' }
}

/** Oldest parked first; ties (clocks of different claimers) by id. */
export const PARKED_ORDER = { parked: 1, _id: 1 } as const

/** Takes an invocation off its parked list (it stays CONCURRENCY_CONTROLLED). */
export const UNPARK: Document = { $unset: { parked: '' } }

/**
 * The one command that finds and takes the oldest invocation parked on `key` off the list:
 * filter, sort and update of a `findOneAndUpdate`. Atomic on the document, so concurrent
 * releasers of one key each get a different invocation, or none.
 */
export function unparkOldest(key: string): { filter: Document; update: Document; sort: Document } {
  return { filter: parkedOnFilter(key), update: UNPARK, sort: PARKED_ORDER }
}

/**
 * Takes one invocation off its parked list only if it is still parked with the sequence its own
 * claim gave it (a releaser may have taken it meanwhile: then the releaser reports it).
 */
export function unparkOwnFilter(id: string, parked: number): Document {
  return { _id: id, status: 'concurrency_controlled', parked }
}

/** Invocations holding one of `keys` as their running-concurrency slot (the unique `activeKey`). */
export function heldKeysFilter(keys: readonly string[]): Document {
  return { activeKey: { $in: [...keys] } }
}

/** Keys among `keys` that no document in `holders` (read with {@link heldKeysFilter}) holds. */
export function freeKeys(keys: readonly string[], holders: readonly { activeKey?: unknown }[]): string[] {
  const held = new Set(holders.map((h) => h.activeKey))
  return [...new Set(keys)].filter((k) => !held.has(k))
}
