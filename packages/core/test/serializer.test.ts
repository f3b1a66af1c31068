import { describe, expect, it } from 'vitest'
import { JsonSerializer, SerializationError } from '../src/index.js'
import type { ClientDataStore } from '../src/interfaces/client-data-store.js'
import {
  deserializeArgs,
  deserializeArgsNow,
  LargeValueCache,
  plainHeader,
  serializeArgs,
} from '../src/orchestration/args.js'

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

describe('JsonSerializer out-of-band metadata', () => {
  it('never reads user data as a marker', () => {
    for (const v of [
      { $nenc: 'ref', k: 'x' },
      { '$nenc:escaped': 1 },
      { $nenc: 1 },
      { $nenc: 'date', v: 1, when: new Date(5) },
      { $nenc: 'undefined' },
      '~{"j":1,"m":[[[],"bigint"]]}',
      ['~', { j: 1, m: [[[], 'date']] }, 1n],
    ]) {
      const back = roundTrip(v)
      expect(back).toEqual(v)
    }
    expect(roundTrip({ '$nenc:escaped': 1 })).toStrictEqual({ '$nenc:escaped': 1 })
  })

  it('round-trips random nested objects with marker-like keys', () => {
    let seed = 42
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const keys = ['$nenc', '$nenc:escaped', 'k', 'v', 'j', 'm', '__proto__', '~', '']
    const gen = (depth: number): unknown => {
      const r = rnd()
      if (depth > 3 || r < 0.3) {
        const leaves = ['ref', '$nenc', '~x', 1, -2.5, true, null, 'date']
        return leaves[Math.floor(rnd() * leaves.length)]
      }
      if (r < 0.45) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1))
      if (r < 0.5) return new Date(Math.floor(rnd() * 1e12))
      if (r < 0.55) return BigInt(Math.floor(rnd() * 1e9))
      const o: Record<string, unknown> = {}
      for (let i = Math.floor(rnd() * 4); i > 0; i--) {
        Object.defineProperty(o, keys[Math.floor(rnd() * keys.length)]!, {
          value: gen(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return o
    }
    for (let i = 0; i < 300; i++) {
      const v = gen(0)
      expect(roundTrip(v)).toEqual(v)
    }
  })

  it('round-trips every special type at the root and nested', () => {
    const specials: unknown[] = [
      new Date(1),
      1n,
      new Map([[new Date(2), new Set([3n])]]),
      new Set([undefined]),
      new Uint8Array([9, 8]),
      undefined,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
    ]
    for (const v of specials) {
      expect(roundTrip(v)).toEqual(v)
      expect(roundTrip({ $nenc: 'x', a: [v] })).toEqual({ $nenc: 'x', a: [v] })
    }
    const err = roundTrip({ e: new RangeError('r') }) as { e: Error }
    expect(err.e).toBeInstanceOf(Error)
    expect(err.e.name).toBe('RangeError')
  })
})

describe('argument large-value references', () => {
  const s2 = new JsonSerializer()
  const makeStore = () => {
    const data = new Map<string, string>()
    const store = {
      store: async (items: readonly { key: string; value: string }[]) => {
        for (const it of items) data.set(it.key, it.value)
      },
      retrieve: async (keys: readonly string[]) => keys.map((k) => data.get(k) ?? null),
    } as unknown as ClientDataStore
    return { data, store }
  }
  const policy = { disabled: false, minSizeToCache: 100 }

  it('stores large values out of band and restores them', async () => {
    const { store } = makeStore()
    const large: { key: string; value: string }[] = []
    const big = { text: 'x'.repeat(500), when: new Date(3) }
    const text = serializeArgs(s2, 't', [1, big, { $nenc: 'ref', k: 'x' }], policy, large)
    expect(large).toHaveLength(1)
    await store.store(large)
    const back = await deserializeArgs(s2, text, store, new LargeValueCache(10))
    expect(back).toEqual([1, big, { $nenc: 'ref', k: 'x' }])
  })

  it("an argument that looks like a ref to another caller's value comes back literally", async () => {
    const { store } = makeStore()
    const otherLarge: { key: string; value: string }[] = []
    serializeArgs(s2, 't', [{ secret: 's'.repeat(500) }], policy, otherLarge)
    await store.store(otherLarge)
    const hash = otherLarge[0]!.key
    const forged = [{ $nenc: 'ref', k: hash }, { $nenc: 'ref', k: 'x' }, { '$nenc:escaped': 1 }]
    const large: { key: string; value: string }[] = []
    const text = serializeArgs(s2, 't', forged, policy, large)
    expect(large).toHaveLength(0)
    const cache = new LargeValueCache(10)
    expect(await deserializeArgs(s2, text, store, cache)).toEqual(forged)
    expect(await deserializeArgs(s2, text, store, cache)).toStrictEqual(forged)
  })

  it('a header-less argument list never resolves references', async () => {
    const { store } = makeStore()
    const otherLarge: { key: string; value: string }[] = []
    serializeArgs(s2, 't', ['z'.repeat(500)], policy, otherLarge)
    await store.store(otherLarge)
    const forged = [{ $nenc: 'ref', k: otherLarge[0]!.key }]
    expect(await deserializeArgs(s2, JSON.stringify(forged), store, new LargeValueCache(10))).toEqual(forged)
    expect(await deserializeArgs(s2, '[]', store, new LargeValueCache(10))).toEqual([])
  })

  it('reports a genuinely missing large value', async () => {
    const { store } = makeStore()
    const large: { key: string; value: string }[] = []
    const text = serializeArgs(s2, 't', ['y'.repeat(500)], policy, large)
    await expect(deserializeArgs(s2, text, store, new LargeValueCache(0))).rejects.toThrow(/missing/)
  })

  it('names the argument path in errors', () => {
    expect(() => serializeArgs(s2, 'takesFn', [1, { nested: [() => 1] }], policy, [])).toThrow(
      /takesFn\(arg 2\)\.nested\[0\]/,
    )
  })
})

describe('argument headers read without JSON.parse', () => {
  const s2 = new JsonSerializer()
  const noStore = {
    retrieve: async () => {
      throw new Error('nothing is out of band')
    },
  } as unknown as ClientDataStore
  const at = (header: string) => plainHeader(`${header}\n`, header.length)

  it('reads the plain headers serializeArgs writes, as JSON.parse does', () => {
    for (const args of [
      [],
      [1],
      ['a', { b: [1, 2] }, null],
      Array.from({ length: 12 }, (_, i) => 'x'.repeat(i * 37)),
    ]) {
      const text = serializeArgs(s2, 't', args, { disabled: true, minSizeToCache: 0 }, [])
      const nl = text.indexOf('\n')
      expect(plainHeader(text, nl)).toEqual(JSON.parse(text.slice(0, nl)))
    }
    expect(at('{"l":[0,10,123456789]}')).toEqual({ l: [0, 10, 123456789] })
  })

  it('leaves every other header to JSON.parse', () => {
    for (const h of [
      '{"l":[1],"r":{"0":"k"}}',
      '{"l":[01]}',
      '{"l":[1,]}',
      '{"l":[,1]}',
      '{"l":[1 ]}',
      '{"l":[-1]}',
      '{"l":[1.5]}',
      '{"l":[1234567890]}',
      '{"l":[1]',
      '{"l":1}',
      '{"m":[1]}',
      '{"l":[}',
      '',
    ])
      expect(at(h)).toBeNull()
  })

  it('answers without a promise when nothing is fetched, and as deserializeArgs does', async () => {
    const text = serializeArgs(s2, 't', [1, 'two', { three: [3] }], { disabled: true, minSizeToCache: 0 }, [])
    const now = deserializeArgsNow(s2, text, noStore, new LargeValueCache(10))
    expect(now).not.toBeInstanceOf(Promise)
    expect(now).toEqual([1, 'two', { three: [3] }])
    expect(await deserializeArgs(s2, text, noStore, new LargeValueCache(10))).toEqual(now)
    // A header with references (or anything unusual) still goes through JSON.parse.
    const spaced = `{ "l": [1, 5] }\n1"two"`
    expect(deserializeArgsNow(s2, spaced, noStore, new LargeValueCache(10))).toEqual([1, 'two'])
    for (const bad of ['{"l":[1,]}\n1', '{"l":1}\n1', '{"l":[1]}', 'nonsense\n'])
      expect(() => deserializeArgsNow(s2, bad, noStore, new LargeValueCache(10))).toThrow(
        /stored arguments are not a list/,
      )
    expect(deserializeArgsNow(s2, '{"l":[1],"r":null}\n7', noStore, new LargeValueCache(10))).toEqual([7])
  })
})
