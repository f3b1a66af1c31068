import { afterEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend, rawClient } from './helpers.js'

describe('redis broker', () => {
  const live: RedisBackend[] = []
  afterEach(async () => {
    for (const b of live.splice(0)) await destroyBackend(b)
  })
  const backend = async (appId: string) => {
    const b = await initBackend(appId)
    live.push(b)
    return b
  }

  it('delayed ids are durable in a zset, not retrievable early, and moved to the queue once due', async () => {
    const appId = freshAppId('delay')
    const b = await backend(appId)
    await b.broker.route(['d1', 'd1', 'd2'], { delayMs: 200 })
    const raw = rawClient()
    expect(await raw.zcard(`nenc:{${appId}}:b:delayed`)).toBe(3) // duplicates stay distinct
    raw.disconnect()
    expect(await b.broker.retrieve(10)).toEqual([])
    expect(await b.broker.count()).toBe(0)
    await new Promise((r) => setTimeout(r, 250))
    expect(await b.broker.count()).toBe(3)
    expect(await b.broker.retrieve(10)).toEqual(['d1', 'd1', 'd2'])
  })

  it('a subscriber in another process-like connection wakes within about the delay', async () => {
    const appId = freshAppId('wake')
    const router = await backend(appId)
    const runner = await backend(appId)
    const wakes: number[] = []
    const t0 = Date.now()
    const unsubscribe = await runner.broker.subscribe(() => wakes.push(Date.now() - t0))
    await router.broker.route(['x'], { delayMs: 300 })
    await new Promise((r) => setTimeout(r, 600))
    expect(wakes.some((ms) => ms >= 295 && ms < 500)).toBe(true)
    expect(await runner.broker.retrieve(1)).toEqual(['x'])
    await unsubscribe()
  })

  it('a subscriber learns of delayed ids routed before it subscribed', async () => {
    const appId = freshAppId('late')
    const router = await backend(appId)
    await router.broker.route(['y'], { delayMs: 250 })
    const runner = await backend(appId)
    let woke = 0
    const unsubscribe = await runner.broker.subscribe(() => woke++)
    await new Promise((r) => setTimeout(r, 450))
    expect(woke).toBeGreaterThan(0)
    expect(await runner.broker.retrieve(5)).toEqual(['y'])
    await unsubscribe()
  })

  it('an immediate route wakes subscribers of every connection', async () => {
    const appId = freshAppId('now')
    const a = await backend(appId)
    const c = await backend(appId)
    let woke = 0
    const unsubscribe = await c.broker.subscribe(() => woke++)
    await a.broker.route(['n'])
    const t0 = Date.now()
    while (woke === 0 && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 2))
    expect(woke).toBe(1)
    await unsubscribe()
  })
})
