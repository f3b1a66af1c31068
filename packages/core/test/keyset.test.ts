import { describe, expect, it } from 'vitest'
import {
  decodeCursor,
  encodeCursor,
  MAX_PAGE_LIMIT,
  pageOfPositions,
  pageRequest,
} from '../src/backend-kit/keyset.js'
import { InvalidQueryError } from '../src/errors.js'

describe('keyset cursors and in-process pages', () => {
  it('a cursor round-trips any id, dots included', () => {
    for (const id of ['a', 'x.y.z', 'ünï ʗode', '0']) {
      expect(decodeCursor(encodeCursor({ createdAt: 1_700_000_000_123, id }))).toEqual({
        createdAt: 1_700_000_000_123,
        id,
      })
    }
  })

  it('rejects text that is not a cursor, and bad limits, naming the field', () => {
    for (const bad of ['', 'abc', '.id', 'ZZ.id', '1.', '!!.x']) {
      expect(() => decodeCursor(bad)).toThrow(InvalidQueryError)
    }
    expect(() => pageRequest({ limit: 0 })).toThrow(/limit/)
    expect(() => pageRequest({ limit: MAX_PAGE_LIMIT + 1 })).toThrow(/limit/)
    expect(() => pageRequest({ limit: 1.5 })).toThrow(/limit/)
    expect(pageRequest({})).toEqual({ limit: 50, after: null })
  })

  it('pages newest first, ties by id descending, next only while more follow', () => {
    const ps = [
      { createdAt: 1, id: 'a' },
      { createdAt: 3, id: 'b' },
      { createdAt: 3, id: 'c' },
      { createdAt: 2, id: 'd' },
    ]
    const first = pageOfPositions(ps, { limit: 2 })
    expect(first).toEqual({ ids: ['c', 'b'], next: encodeCursor({ createdAt: 3, id: 'b' }) })
    expect(pageOfPositions(ps, { limit: 2, cursor: first.next })).toEqual({ ids: ['d', 'a'], next: null })
    expect(pageOfPositions([], {})).toEqual({ ids: [], next: null })
  })
})
