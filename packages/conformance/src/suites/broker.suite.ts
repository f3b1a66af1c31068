import { describe, expect, it } from 'vitest'
import { eventually } from '../assertions.js'
import { type BackendFactory, useBackend } from '../harness.js'

export function describeBroker(name: string, factory: BackendFactory): void {
  describe(`${name}: broker`, () => {
    const { components } = useBackend(factory)

    it('retrieve() returns routed ids oldest first, in batches of at most max', async () => {
      const { backend } = await components()
      const ids = Array.from({ length: 25 }, (_, i) => `id-${String(i).padStart(2, '0')}`)
      await backend.broker.route(ids.slice(0, 10))
      await backend.broker.route(ids.slice(10))
      expect(await backend.broker.count()).toBe(25)
      expect(await backend.broker.retrieve(10)).toEqual(ids.slice(0, 10))
      expect(await backend.broker.retrieve(100)).toEqual(ids.slice(10))
      expect(await backend.broker.retrieve(5)).toEqual([])
      expect(await backend.broker.retrieve(0)).toEqual([])
    })

    it('retrieve() never hands one queue entry to two concurrent callers', async () => {
      const { backend } = await components()
      const ids = Array.from({ length: 200 }, (_, i) => `c-${i}`)
      await backend.broker.route(ids)
      const got = (await Promise.all(Array.from({ length: 20 }, () => backend.broker.retrieve(15)))).flat()
      const rest = await backend.broker.retrieve(1000)
      const all = [...got, ...rest]
      expect(all).toHaveLength(200)
      expect(new Set(all).size).toBe(200)
    })

    it('route() accepts duplicates: an id routed twice is delivered twice (at least once)', async () => {
      const { backend } = await components()
      await backend.broker.route(['dup', 'dup'])
      expect(await backend.broker.retrieve(10)).toEqual(['dup', 'dup'])
    })

    it('a delayed id is not retrievable before its delay and is retrievable after it', async () => {
      const { backend } = await components()
      await backend.broker.route(['later'], { delayMs: 300 })
      await backend.broker.route(['now'])
      expect(await backend.broker.retrieve(10)).toEqual(['now'])
      await new Promise((r) => setTimeout(r, 150))
      expect(await backend.broker.retrieve(10)).toEqual([])
      await eventually(
        async () => {
          const got = await backend.broker.retrieve(10)
          if (got.length) expect(got).toEqual(['later'])
          return got.length > 0
        },
        3000,
        'the delayed id',
      )
    })

    it('subscribe() is notified after route(), and unsubscribe stops it', async () => {
      const { backend } = await components()
      let calls = 0
      const unsubscribe = await backend.broker.subscribe(() => calls++)
      await backend.broker.route(['n1'])
      await eventually(() => calls > 0, 3000, 'a wake-up after route')
      await unsubscribe()
      const seen = calls
      await backend.broker.route(['n2'])
      await new Promise((r) => setTimeout(r, 100))
      expect(calls).toBe(seen)
    })

    it('subscribe() is notified when a delayed id becomes due', async () => {
      const { backend } = await components()
      let calls = 0
      const unsubscribe = await backend.broker.subscribe(() => calls++)
      await backend.broker.route(['due-soon'], { delayMs: 300 })
      await new Promise((r) => setTimeout(r, 50)) // let any immediate (spurious) wake-up pass
      const at = calls
      await eventually(() => calls > at, 3000, 'a wake-up when the delayed id is due')
      expect(await backend.broker.retrieve(5)).toEqual(['due-soon'])
      await unsubscribe()
    })

    it('purge() empties the queue', async () => {
      const { backend } = await components()
      await backend.broker.route(['p1', 'p2'])
      await backend.broker.purge()
      expect(await backend.broker.count()).toBe(0)
      expect(await backend.broker.retrieve(10)).toEqual([])
    })
  })
}
