import type { EventCursor, ListEventsQuery, StoredEvent } from '@nenc/core'
import type { Filter } from 'mongodb'
import { corrupt, isNum, isStr } from '../documents.js'

/** One emitted event (`<prefix>events`), `_id` = event id. */
export interface EventDoc {
  _id: string
  code: string
  payload: string
  emittedAt: number
}

export const eventDoc = (e: StoredEvent): EventDoc => ({
  _id: e.id,
  code: e.code,
  payload: e.payload,
  emittedAt: e.emittedAt,
})

/** Events older than the retention bound of a new event emitted at `emittedAt`. */
export const expiredEvents = (emittedAt: number, retentionMs: number): Filter<EventDoc> => ({
  emittedAt: { $lt: emittedAt - retentionMs },
})

/** The filter, sort and limit of a listing: newest first, ties by id (descending). */
export function eventListing(query: ListEventsQuery): {
  filter: Filter<EventDoc>
  sort: { emittedAt: -1; _id: -1 }
  limit: number
} {
  return {
    filter: query.code === undefined ? {} : { code: query.code },
    sort: { emittedAt: -1, _id: -1 },
    limit: query.limit ?? 100,
  }
}

/** The filter and sort of a scan of one code's events after a cursor: oldest first, ties by id. */
export function eventsAfter(
  code: string,
  after: EventCursor,
): { filter: Filter<EventDoc>; sort: { emittedAt: 1; _id: 1 } } {
  return {
    filter: {
      code,
      $or: [{ emittedAt: { $gt: after.emittedAt } }, { emittedAt: after.emittedAt, _id: { $gt: after.id } }],
    },
    sort: { emittedAt: 1, _id: 1 },
  }
}

export function decodeEvent(doc: Partial<EventDoc>, location: string): StoredEvent {
  if (!isStr(doc._id) || !isStr(doc.code) || !isStr(doc.payload) || !isNum(doc.emittedAt))
    throw corrupt(location, 'not an event {code, payload, emittedAt}')
  return { id: doc._id, code: doc.code, payload: doc.payload, emittedAt: doc.emittedAt }
}
