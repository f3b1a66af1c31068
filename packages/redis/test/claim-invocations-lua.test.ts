import { newRequests } from '@nenc/conformance'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend, keysOf, rawClient } from './helpers.js'

describe('claim-invocations.lua', () => {
  const live: RedisBackend[] = []
  const backend = async (appId: string) => {
    const b = await initBackend(appId)
    live.push(b)
    return b
  }
  afterEach(async () => {
    for (const b of live.splice(0)) await destroyBackend(b)
  })

  it('20 claimers on 20 separate connections, one invocation: exactly one wins, one history entry', async () => {
    const appId = freshAppId('claim20')
    const backends = await Promise.all(Array.from({ length: 20 }, () => backend(appId)))
    const [req] = newRequests(1)
    await backends[0]!.orchestrator.register([req!])
    const outs = await Promise.all(backends.map((b, i) => b.orchestrator.claim([req!.id], `runner-${i}`)))
    const winners = outs.flat().filter((o) => o.outcome === 'claimed')
    expect(winners).toHaveLength(1)
    const history = await backends[0]!.orchestrator.getHistory(req!.id)
    expect(history.map((h) => h.status)).toEqual(['registered', 'pending'])
    expect(history[1]!.owner).toBe(history[1]!.actor)
  })

  it('running concurrency: ids claimed earlier in the same call hold the key, across script chunks', async () => {
    const b = await backend(freshAppId('chunks'))
    // 450 ids → three script calls in one pipeline; one key for all of them.
    const reqs = newRequests(450, { runningKey: 'one-key', rerouteOnConcurrencyControl: true })
    await b.orchestrator.register(reqs)
    const out = await b.orchestrator.claim(
      reqs.map((r) => r.id),
      'r1',
    )
    expect(out[0]!.outcome).toBe('claimed')
    expect(out.slice(1).every((o) => o.outcome === 'controlled')).toBe(true)
    expect(out.map((o) => o.id)).toEqual(reqs.map((r) => r.id))
  })

  it('the running key is released when its holder leaves the active statuses', async () => {
    const b = await backend(freshAppId('release'))
    const [a, c] = newRequests(2, { runningKey: 'k', rerouteOnConcurrencyControl: true })
    await b.orchestrator.register([a!, c!])
    await b.orchestrator.claim([a!.id], 'r1')
    await b.orchestrator.transition([
      { id: a!.id, to: 'running', actor: 'r1' },
      { id: a!.id, to: 'paused', actor: 'r1' },
    ])
    expect((await b.orchestrator.claim([c!.id], 'r2'))[0]!.outcome).toBe('controlled') // PAUSED holds it
    await b.orchestrator.transition([
      { id: c!.id, to: 'rerouted', actor: 'r2' },
      { id: a!.id, to: 'resumed', actor: 'r1' },
      { id: a!.id, to: 'retry', actor: 'r1' },
    ])
    expect((await b.orchestrator.claim([c!.id], 'r2'))[0]!.outcome).toBe('claimed')
    expect((await b.orchestrator.claim([a!.id], 'r1'))[0]!.outcome).toBe('deferred')
  })

  it('controlled ids are parked on their key, oldest first; a release skips and drops those that left, and purge removes the list', async () => {
    const appId = freshAppId('park')
    const b = await backend(appId)
    const raw = rawClient()
    try {
      const list = `nenc:{${appId}}:o:park:pk`
      const [a, c, d, e] = newRequests(4, { runningKey: 'pk', rerouteOnConcurrencyControl: true })
      await b.orchestrator.register([a!, c!, d!, e!])
      const out = await b.orchestrator.claim([a!.id, c!.id, d!.id], 'r1')
      expect(out.map((o) => o.outcome)).toEqual(['claimed', 'controlled', 'controlled'])
      expect((await b.orchestrator.claim([e!.id], 'r2'))[0]!.outcome).toBe('controlled')
      expect(await raw.lrange(list, 0, -1)).toEqual([c!.id, d!.id, e!.id])
      // c leaves CONCURRENCY_CONTROLLED by itself: the release drops it and takes d.
      await b.orchestrator.transition([{ id: c!.id, to: 'rerouted', actor: 'r1' }])
      const [done] = await b.orchestrator.transition([{ id: a!.id, to: 'killed', actor: 'r1' }])
      expect(done).toMatchObject({ ok: true, released: [d!.id] })
      expect(await raw.lrange(list, 0, -1)).toEqual([e!.id])
      // A rejected transition releases nothing.
      const [rejected] = await b.orchestrator.transition([{ id: a!.id, to: 'success', actor: 'r1' }])
      expect(rejected).toMatchObject({ ok: false, reason: 'invalid_transition' })
      expect(await raw.lrange(list, 0, -1)).toEqual([e!.id])
      // The last entry taken: the list is gone; nothing is left to release.
      expect((await b.orchestrator.claim([c!.id], 'r1'))[0]!.outcome).toBe('claimed')
      const [cDone] = await b.orchestrator.transition([{ id: c!.id, to: 'killed', actor: 'r1' }])
      expect(cDone).toMatchObject({ ok: true, released: [e!.id] })
      expect(await raw.exists(list)).toBe(0)
      await b.orchestrator.transition([{ id: d!.id, to: 'rerouted', actor: 'r1' }])
      expect((await b.orchestrator.claim([d!.id], 'r1'))[0]!.outcome).toBe('claimed')
      const [dDone] = await b.orchestrator.transition([{ id: d!.id, to: 'killed', actor: 'r1' }])
      expect(dDone).toEqual({ ok: true, state: expect.objectContaining({ status: 'killed' }) })
      // Another key's parked list goes with the orchestrator's purge.
      const [f, g] = newRequests(2, { runningKey: 'pk2', rerouteOnConcurrencyControl: true })
      await b.orchestrator.register([f!, g!])
      await b.orchestrator.claim([f!.id, g!.id], 'r1')
      expect(await raw.lrange(`nenc:{${appId}}:o:park:pk2`, 0, -1)).toEqual([g!.id])
      await b.orchestrator.purge()
      expect((await keysOf(raw, appId)).filter((k) => k.includes(':o:'))).toEqual([])
    } finally {
      raw.disconnect()
    }
  })

  it('claim returns the state it wrote: pending, owned, the next attempt', async () => {
    const appId = freshAppId('claim-state')
    const b = await backend(appId)
    const [req] = newRequests(1)
    await b.orchestrator.register([req!])
    const [claimed] = await b.orchestrator.claim([req!.id], 'r1')
    expect(claimed).toMatchObject({
      outcome: 'claimed',
      state: { status: 'pending', owner: 'r1', retries: 0, attempt: 1 },
    })
    expect(await b.orchestrator.getStates([req!.id])).toMatchObject([{ status: 'pending', attempt: 1 }])
  })
})
