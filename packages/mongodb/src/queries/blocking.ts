import { AVAILABLE_FOR_RUN_STATUSES } from '@nenc/core'
import type { AnyBulkWriteOperation, Document } from 'mongodb'
import type { CollectionNames } from '../names.js'

/** One blocking-control edge (`<prefix>waits`): `waiter` waits for `waited`. */
export interface WaitDoc {
  waiter: string
  waited: string
  /** ms epoch of the first time the edge was added. */
  at: number
}

/** Idempotent edge inserts: one upsert per (waiter, waited) pair, unique by the `nenc_edge` index. */
export function edgeUpserts(
  waiterId: string,
  waitedIds: readonly string[],
  now: number,
): AnyBulkWriteOperation<WaitDoc>[] {
  return [...new Set(waitedIds)].map((waited) => ({
    updateOne: {
      filter: { waiter: waiterId, waited },
      update: { $setOnInsert: { waiter: waiterId, waited, at: now } },
      upsert: true,
    },
  }))
}

/**
 * Marks invocation documents as named by edges. A final transition of a marked document
 * releases its edges; the mark is part of a final transition's guard, so marking a document
 * that is being finished makes that transition re-read it and see the mark.
 */
export const MARK_BLOCKING = { $set: { blk: true } } as const

/** Every edge in which one of `ids` is the waiter or the waited (released when they are final). */
export function releaseEdgesFilter(ids: readonly string[]): Document {
  return { $or: [{ waited: { $in: [...ids] } }, { waiter: { $in: [...ids] } }] }
}

/**
 * `getBlockingInvocations` as one aggregation over the edges: count waiters per waited id, drop
 * ids that wait for something themselves, keep ids whose invocation is available for run, rank
 * by waiters (most first), then creation time and id (oldest first).
 */
export function blockingPipeline(names: CollectionNames, max: number): Document[] {
  return [
    { $group: { _id: '$waited', waiters: { $sum: 1 } } },
    { $lookup: { from: names.waits, localField: '_id', foreignField: 'waiter', as: 'waitsFor' } },
    { $match: { waitsFor: { $size: 0 } } },
    { $lookup: { from: names.invocations, localField: '_id', foreignField: '_id', as: 'invocation' } },
    { $unwind: '$invocation' },
    { $match: { 'invocation.status': { $in: [...AVAILABLE_FOR_RUN_STATUSES] } } },
    { $sort: { waiters: -1, 'invocation.createdAt': 1, _id: 1 } },
    { $limit: max },
    { $project: { _id: 1 } },
  ]
}
