import { describe, expect, it } from 'vitest'
import { readFinalNotification } from '../src/index.js'

const decode = (e: readonly unknown[]) =>
  e[1] === 'result' && typeof e[2] === 'string' ? { kind: 'result' as const, value: e[2] } : null

describe('readFinalNotification (backend kit)', () => {
  it('reads ids and the outcomes that travel with them', () => {
    const read = readFinalNotification(JSON.stringify(['a', ['b', 'result', '1'], 'c']), decode)
    expect(read?.ids).toEqual(['a', 'b', 'c'])
    expect([...(read?.outcomes ?? [])]).toEqual([['b', { kind: 'result', value: '1' }]])
  })

  it('keeps the id of an entry whose outcome it cannot decode, and drops the outcome', () => {
    const throwing = () => {
      throw new Error('corrupt')
    }
    const read = readFinalNotification(JSON.stringify([['b', 'weird', 1]]), throwing)
    expect(read).toEqual({ ids: ['b'], outcomes: undefined })
    expect(readFinalNotification(JSON.stringify([['b', 'other', '1']]), decode)).toEqual({
      ids: ['b'],
      outcomes: undefined,
    })
  })

  it('ignores payloads that are not a non-empty array of ids (a foreign publisher)', () => {
    for (const payload of ['', 'not json', '{}', '[]', '[1, 2]', '[[3]]', 'null'])
      expect(readFinalNotification(payload, decode), payload).toBeNull()
  })
})
