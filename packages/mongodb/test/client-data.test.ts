import { CorruptDataError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import {
  assembleValue,
  type ClientDataDoc,
  chunkIdsOf,
  clientDataWrites,
  MAX_CHUNK_BYTES,
  splitValue,
} from '../src/queries/client-data.js'

describe('client data chunking', () => {
  it('values up to 15 MiB of UTF-8 stay in one document', () => {
    expect(MAX_CHUNK_BYTES).toBe(15 * 1024 * 1024)
    expect(splitValue('small')).toEqual(['small'])
    expect(clientDataWrites([{ key: 'k', value: 'v' }])).toEqual([
      { replaceOne: { filter: { _id: 'k' }, replacement: { v: 'v' }, upsert: true } },
    ])
  })

  it('larger values are split into chunks written before the head that points at them', () => {
    // 6 bytes hold two UTF-16 units of any text (at most 3 UTF-8 bytes each): 'ab', 'cd', …
    const ops = clientDataWrites([{ key: 'k', value: 'abcdefghij' }], 6)
    expect(ops).toEqual([
      ...['ab', 'cd', 'ef', 'gh', 'ij'].map((v, i) => ({
        replaceOne: { filter: { _id: `k#chunk${i}` }, replacement: { of: 'k', i, v }, upsert: true },
      })),
      { replaceOne: { filter: { _id: 'k' }, replacement: { chunks: 5 }, upsert: true } },
    ])
  })

  it('never splits a surrogate pair and never exceeds the byte limit; parts join to the value', () => {
    const value = `${'é'.repeat(5)}😀${'x'.repeat(7)}😀😀z`
    for (const max of [6, 7, 9, 12]) {
      const parts = splitValue(value, max)
      expect(parts.join('')).toBe(value)
      for (const p of parts) {
        expect(Buffer.byteLength(p)).toBeLessThanOrEqual(max)
        expect(Buffer.from(p, 'utf8').toString('utf8')).toBe(p)
      }
    }
  })

  it('reassembles chunked values and reports a missing chunk as corrupt data', () => {
    const head: ClientDataDoc = { _id: 'k', chunks: 2 }
    expect(chunkIdsOf(head, 'cd/k')).toEqual(['k#chunk0', 'k#chunk1'])
    expect(chunkIdsOf({ _id: 'k', v: 'inline' }, 'cd/k')).toEqual([])
    const chunks = new Map<string, ClientDataDoc>([
      ['k#chunk0', { _id: 'k#chunk0', v: 'ab' }],
      ['k#chunk1', { _id: 'k#chunk1', v: 'cd' }],
    ])
    expect(assembleValue(head, chunks, 'cd/k')).toBe('abcd')
    chunks.delete('k#chunk1')
    expect(() => assembleValue(head, chunks, 'cd/k')).toThrow(CorruptDataError)
    expect(() => chunkIdsOf({ _id: 'k' }, 'cd/k')).toThrow(CorruptDataError)
  })
})
