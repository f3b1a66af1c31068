import { newRequests } from '@nenc/conformance'
import { Nenc } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { afterEach, describe, expect, it } from 'vitest'
import { redisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend, keysOf, REDIS_URL, rawClient } from './helpers.js'

describe('two apps on one Redis', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })

  it('never see each other’s queue, invocations, records, notifications or keys', async () => {
    const [idA, idB] = [freshAppId('iso-a'), freshAppId('iso-b')]
    const a = await initBackend(idA)
    const b = await initBackend(idB)
    cleanups.push(
      () => destroyBackend(a),
      () => destroyBackend(b),
    )
    let bWoke = 0
    let bFinals = 0
    const un1 = await b.broker.subscribe(() => bWoke++)
    const un2 = await b.orchestrator.subscribeFinal(() => bFinals++)
    const reqs = newRequests(2, { runningKey: 'shared', registrationKey: 'shared' })
    await a.orchestrator.register(reqs.slice(0, 1))
    await a.broker.route([reqs[0]!.id])
    // Same registration and running keys in app B: no reuse, no blocking across apps.
    expect(await b.orchestrator.register(reqs.slice(1))).toEqual([{ id: reqs[1]!.id, reused: false }])
    expect(await b.broker.retrieve(10)).toEqual([])
    expect(await b.orchestrator.getStates([reqs[0]!.id])).toEqual([null])
    expect((await a.orchestrator.claim([reqs[0]!.id], 'r'))[0]!.outcome).toBe('claimed')
    expect((await b.orchestrator.claim([reqs[1]!.id], 'r'))[0]!.outcome).toBe('claimed')
    await a.orchestrator.transition([{ id: reqs[0]!.id, to: 'killed', actor: 'r' }])
    await a.orchestrator.transition([{ id: reqs[0]!.id, to: 'rerouted', actor: 'r' }])
    await a.stateBackend.setOutcomes([
      { id: reqs[1]!.id, attempt: 1, outcome: { kind: 'result', value: '1' } },
    ])
    expect(await b.stateBackend.getOutcomes([{ id: reqs[1]!.id, attempt: 1 }])).toEqual([null])
    await new Promise((r) => setTimeout(r, 100))
    expect(bWoke).toBe(0)
    expect(bFinals).toBe(0)
    const raw = rawClient()
    const keysA = await keysOf(raw, idA)
    const keysB = await keysOf(raw, idB)
    expect(keysA.length).toBeGreaterThan(0)
    expect(keysB.every((k) => k.startsWith(`nenc:{${idB}}:`))).toBe(true)
    await a.orchestrator.purge()
    await a.broker.purge()
    await a.stateBackend.purge()
    expect(await keysOf(raw, idA)).toEqual([])
    expect(await keysOf(raw, idB)).toEqual(keysB) // purge of A leaves B alone
    raw.disconnect()
    await un1()
    await un2()
  })

  it('two apps run their own tasks end to end on one server', async () => {
    const make = (appId: string, value: string) => {
      const app = new Nenc({
        appId,
        backend: redisBackend({ url: REDIS_URL }),
        runner: new ThreadRunner({ maxThreads: 4 }),
        env: {},
      })
      const t = app.task('who', async () => value)
      cleanups.push(async () => {
        await app.purge()
        await app.close()
      })
      return { app, t }
    }
    const one = make(freshAppId('e2e-a'), 'A')
    const two = make(freshAppId('e2e-b'), 'B')
    await one.app.runner.start()
    await two.app.runner.start()
    const [x, y] = [await one.t(), await two.t()]
    expect([await x.result(), await y.result()]).toEqual(['A', 'B'])
  })
})
