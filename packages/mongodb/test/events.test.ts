import { CorruptDataError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { decodeEvent, eventDoc, eventListing, expiredEvents } from '../src/queries/events.js'

// Pure logic of the event documents; the server behaviour is the conformance suite's (NENC_MONGO_URL).
describe('mongodb: event documents', () => {
  const event = { id: 'e1', code: 'order.paid', payload: '{"a":1}', emittedAt: 1_000 }

  it('round-trips an event through its document', () => {
    const doc = eventDoc(event)
    expect(doc).toEqual({ _id: 'e1', code: 'order.paid', payload: '{"a":1}', emittedAt: 1_000 })
    expect(decodeEvent(doc, 'events/e1')).toEqual(event)
  })

  it('a document that is not an event is corrupt data naming where it is', () => {
    expect(() =>
      decodeEvent({ _id: 'e2', code: 'x', payload: 3 as unknown as string, emittedAt: 1 }, 'events/e2'),
    ).toThrow(CorruptDataError)
    expect(() => decodeEvent({ _id: 'e2', code: 'x', payload: 'p' }, 'events/e2')).toThrow(/events\/e2/)
  })

  it('trims what is older than the retention bound of the new event', () => {
    expect(expiredEvents(10_000, 3_000)).toEqual({ emittedAt: { $lt: 7_000 } })
  })

  it('lists newest first, optionally by code, 100 by default', () => {
    expect(eventListing({})).toEqual({ filter: {}, sort: { emittedAt: -1, _id: -1 }, limit: 100 })
    expect(eventListing({ code: 'c', limit: 5 })).toEqual({
      filter: { code: 'c' },
      sort: { emittedAt: -1, _id: -1 },
      limit: 5,
    })
  })
})
