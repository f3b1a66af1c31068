import { newRequests } from '@nenc/conformance'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend } from './helpers.js'

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
