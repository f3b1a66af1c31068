import { describe, expect, it } from 'vitest'
import { JsonSerializer, SerializationError } from '../src/index.js'

const s = new JsonSerializer()
const roundTrip = (v: unknown) => s.deserialize(s.serialize(v))

describe('JsonSerializer', () => {
  it('round-trips plain JSON on the fast path', () => {
    const v = { a: [1, 'two', null, true], b: { c: 1.5 } }
    expect(s.serialize(v)).toBe(JSON.stringify(v))
    expect(roundTrip(v)).toEqual(v)
  })

  it('round-trips Date, BigInt, Map, Set, bytes, undefined and non-finite numbers', () => {
    const v = {
      d: new Date(1_700_000_000_000),
      n: 12345678901234567890n,
      m: new Map<unknown, unknown>([
        ['k', new Set([1, 2])],
        [3, undefined],
      ]),
      b: new Uint8Array([0, 1, 255]),
      u: undefined,
      x: [Number.NaN, Number.POSITIVE_INFINITY],
    }
    const back = roundTrip(v) as typeof v
    expect(back.d).toEqual(v.d)
    expect(back.n).toBe(v.n)
    expect(back.m).toEqual(v.m)
    expect(back.b).toEqual(v.b)
    expect('u' in back && back.u === undefined).toBe(true)
    expect(back.x[0]).toBeNaN()
    expect(back.x[1]).toBe(Number.POSITIVE_INFINITY)
  })

  it('round-trips errors as data with name, message and cause', () => {
    const err = new TypeError('outer', { cause: new Error('inner') })
    const back = roundTrip(err) as Error
    expect(back).toBeInstanceOf(Error)
    expect(back.name).toBe('TypeError')
    expect(back.message).toBe('outer')
    expect((back.cause as Error).message).toBe('inner')
  })

  it('keeps user data that uses the envelope key', () => {
    expect(roundTrip({ $nenc: 'date', v: 1 })).toEqual({ $nenc: 'date', v: 1 })
  })

  it('names the path of a value it cannot serialize', () => {
    expect(() => s.serialize({ a: [1, () => 2] }, 'arg')).toThrow(SerializationError)
    expect(() => s.serialize({ a: [1, () => 2] }, 'arg')).toThrow(/arg\.a\[1\]/)
    class Point {}
    expect(() => s.serialize({ p: new Point() }, 'x')).toThrow(/class Point/)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => s.serialize(cyclic, 'c')).toThrow(/circular/)
  })
})
