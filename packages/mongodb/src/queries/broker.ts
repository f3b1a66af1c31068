import type { Document } from 'mongodb'

/** One queued id (`<prefix>queue`); `_id` is a driver-generated ObjectId. */
export interface QueueDoc {
  inv: string
  /** ms epoch (the router's clock) from which the entry may be retrieved. */
  availableAt: number
}

/**
 * The entries one `route()` inserts, in order. Entries share `availableAt`; the ObjectIds the
 * driver assigns increase within a process, so the queue order keeps the route's order.
 */
export function queueDocs(ids: readonly string[], now: number, delayMs = 0): QueueDoc[] {
  const availableAt = now + Math.max(0, delayMs)
  return ids.map((inv) => ({ inv, availableAt }))
}

/**
 * Entries retrievable at `now`. Documents that are not nenc entries (no string `inv`) never
 * match, so a foreign document cannot block the head of the queue.
 */
export function dueFilter(now: number): Document {
  return { availableAt: { $lte: now }, inv: { $type: 'string' } }
}

/** Entries still delayed at `now`. */
export function futureFilter(now: number): Document {
  return { availableAt: { $gt: now }, inv: { $type: 'string' } }
}

/** Queue order: due time, then insertion (ObjectId) — oldest first. */
export const QUEUE_ORDER = { availableAt: 1, _id: 1 } as const

/** Change-stream stages of the broker's wake-up feed: inserts, with only their due time. */
export const QUEUE_FEED_PIPELINE: Document[] = [
  { $match: { operationType: 'insert' } },
  { $project: { 'fullDocument.availableAt': 1 } },
]
