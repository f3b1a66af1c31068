import { decodeCursor, encodeCursor, FINAL_STATUSES, InvalidQueryError } from '@nenc/core'
import { MaxKey, MinKey } from 'mongodb'
import { describe, expect, it } from 'vitest'
import {
  edgesOfFilter,
  finalAmongFilter,
  invocationCountPipeline,
  invocationPageFind,
  outcomesOfFilter,
  pageOfDocs,
  recordPageFind,
} from '../src/queries/listing.js'

describe('listing queries (pure logic; the server behaviour is the conformance suite, run with NENC_MONGO_URL)', () => {
  it('a first page: the filters, newest first, one document more than the page', () => {
    expect(
      invocationPageFind({
        taskId: 'app.t',
        statuses: ['failed'],
        createdFrom: 10,
        createdBefore: 20,
        limit: 5,
      }),
    ).toEqual({
      filter: { taskId: 'app.t', status: { $in: ['failed'] }, createdAt: { $gte: 10, $lt: 20 } },
      sort: { createdAt: -1, _id: -1 },
      limit: 6,
      page: 5,
    })
    expect(invocationPageFind({}).filter).toEqual({})
    expect(invocationPageFind({}).page).toBe(50)
  })

  it('a later page starts strictly after the cursor position (time, then id)', () => {
    const cursor = encodeCursor({ createdAt: 1234, id: 'b.c' })
    expect(decodeCursor(cursor)).toEqual({ createdAt: 1234, id: 'b.c' })
    expect(invocationPageFind({ taskId: 't', cursor }).filter).toEqual({
      $and: [
        { taskId: 't' },
        { $or: [{ createdAt: { $lt: 1234 } }, { createdAt: 1234, _id: { $lt: 'b.c' } }] },
      ],
    })
    expect(recordPageFind({ workflowId: 'w', cursor }).filter.$and[0]).toEqual({ 'workflow.id': 'w' })
    expect(recordPageFind({ parentId: 'p' }).filter).toEqual({ parentId: 'p' })
  })

  it('counts group by task and status over the filter', () => {
    expect(invocationCountPipeline({ taskId: 't', createdFrom: 5 })).toEqual([
      { $match: { taskId: 't', createdAt: { $gte: 5 } } },
      { $group: { _id: { t: '$taskId', s: '$status' }, n: { $sum: 1 } } },
    ])
  })

  it('the page of documents read: next only when one more came back', () => {
    const find = invocationPageFind({ limit: 2 })
    const docs = [
      { _id: 'c', createdAt: 3 },
      { _id: 'b', createdAt: 2 },
      { _id: 'a', createdAt: 1 },
    ]
    expect(pageOfDocs(docs, find)).toEqual({ ids: ['c', 'b'], next: encodeCursor({ createdAt: 2, id: 'b' }) })
    expect(pageOfDocs(docs.slice(0, 2), find)).toEqual({ ids: ['c', 'b'], next: null })
  })

  it('bad input is InvalidQueryError', () => {
    expect(() => invocationPageFind({ limit: -1 })).toThrow(InvalidQueryError)
    expect(() => invocationPageFind({ cursor: 'x' })).toThrow(/cursor/)
    expect(() => recordPageFind({ workflowId: '' })).toThrow(/workflowId\/parentId/)
  })

  it('deletion filters: final statuses only, edges either way, every attempt of an outcome', () => {
    expect(finalAmongFilter(['a', 'a', 'b'])).toEqual({
      _id: { $in: ['a', 'b'] },
      status: { $in: [...FINAL_STATUSES] },
    })
    expect(edgesOfFilter(['a'])).toEqual({ $or: [{ waiter: { $in: ['a'] } }, { waited: { $in: ['a'] } }] })
    expect(outcomesOfFilter(['a', 'a'])).toEqual({
      $or: [{ _id: { $gte: { i: 'a', a: new MinKey() }, $lte: { i: 'a', a: new MaxKey() } } }],
    })
  })
})
