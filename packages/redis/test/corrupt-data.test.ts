import { newRequests } from '@nenc/conformance'
import { CorruptDataError } from '@nenc/core'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend, rawClient } from './helpers.js'

/** Foreign or corrupted values under nenc keys surface as CorruptDataError, never as a crash. */
describe('corrupt data under nenc keys', () => {
  let raw: Redis
  let b: RedisBackend
  let appId: string
  let p: string
  beforeAll(() => {
    raw = rawClient()
  })
  afterAll(() => raw.disconnect())
  beforeEach(async () => {
    appId = freshAppId('corrupt')
    p = `nenc:{${appId}}:`
    b = await initBackend(appId)
  })
  afterEach(async () => destroyBackend(b))

  it('a string where an invocation hash belongs: every orchestrator call reports the key, and a batch writes nothing', async () => {
    const [good, bad] = newRequests(2)
    await b.orchestrator.register([good!, bad!])
    await raw.del(`${p}o:i:${bad!.id}`)
    await raw.set(`${p}o:i:${bad!.id}`, 'garbage')
    const err = await b.orchestrator.getStates([good!.id, bad!.id]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CorruptDataError)
    expect((err as CorruptDataError).location).toBe(`${p}o:i:${bad!.id}`)
    await expect(b.orchestrator.claim([good!.id, bad!.id], 'r1')).rejects.toBeInstanceOf(CorruptDataError)
    await expect(
      b.orchestrator.transition([
        { id: good!.id, to: 'pending', actor: 'r1' },
        { id: bad!.id, to: 'pending', actor: 'r1' },
      ]),
    ).rejects.toBeInstanceOf(CorruptDataError)
    expect((await b.orchestrator.getStates([good!.id]))[0]!.status).toBe('registered')
    expect(await b.orchestrator.getHistory(good!.id)).toHaveLength(1)
    await expect(b.orchestrator.addWaiting(good!.id, [bad!.id])).rejects.toBeInstanceOf(CorruptDataError)
  })

  it('an unknown status or a broken retry counter in the hash', async () => {
    const [a, c] = newRequests(2)
    await b.orchestrator.register([a!, c!])
    await raw.hset(`${p}o:i:${a!.id}`, 's', 'exploded')
    await raw.hset(`${p}o:i:${c!.id}`, 'r', 'many')
    await expect(b.orchestrator.getStates([a!.id])).rejects.toBeInstanceOf(CorruptDataError)
    await expect(
      b.orchestrator.transition([{ id: c!.id, to: 'pending', actor: 'r' }]),
    ).rejects.toBeInstanceOf(CorruptDataError)
  })

  it('history entries, records, outcomes and runner contexts nenc did not write', async () => {
    const [a] = newRequests(1)
    await b.orchestrator.register([a!])
    await raw.rpush(`${p}o:h:${a!.id}`, 'not-an-entry')
    await expect(b.orchestrator.getHistory(a!.id)).rejects.toBeInstanceOf(CorruptDataError)
    await raw.set(`${p}s:rec:${a!.id}`, '{"id": 1')
    await expect(b.stateBackend.getInvocations([a!.id])).rejects.toBeInstanceOf(CorruptDataError)
    await raw.set(`${p}s:rec:${a!.id}`, '{"id": "someone else"}')
    await expect(b.stateBackend.getInvocations([a!.id])).rejects.toThrow(/not an invocation record/)
    await raw.hset(`${p}s:out:${a!.id}`, '0', 'x42')
    await expect(b.stateBackend.getOutcomes([{ id: a!.id, attempt: 0 }])).rejects.toBeInstanceOf(
      CorruptDataError,
    )
    await raw.del(`${p}s:out:${a!.id}`)
    await raw.set(`${p}s:out:${a!.id}`, 'x42')
    await expect(b.stateBackend.getOutcomes([{ id: a!.id, attempt: 0 }])).rejects.toBeInstanceOf(
      CorruptDataError,
    )
    await expect(
      b.stateBackend.setOutcomes([{ id: a!.id, attempt: 0, outcome: { kind: 'result', value: '1' } }]),
    ).rejects.toBeInstanceOf(CorruptDataError)
    await raw.set(`${p}s:rc:r1`, '[]')
    await expect(b.stateBackend.getRunnerContext('r1')).rejects.toBeInstanceOf(CorruptDataError)
    await raw.hset(`${p}t:defs`, 'app.t', '{"not":"a list"}')
    await expect(b.triggerStore.getTriggers()).rejects.toBeInstanceOf(CorruptDataError)
    await raw.hset(`${p}t:cron`, 'c1', 'yesterday')
    await expect(b.triggerStore.getLastCronExecution('c1')).rejects.toBeInstanceOf(CorruptDataError)
  })

  it('a key of the wrong type (WRONGTYPE) is CorruptDataError, for scripts and plain commands', async () => {
    await raw.set(`${p}b:queue`, 'not a list')
    await expect(b.broker.retrieve(5)).rejects.toBeInstanceOf(CorruptDataError)
    await expect(b.broker.route(['x'])).rejects.toBeInstanceOf(CorruptDataError)
    await raw.set(`${p}s:wf:w1`, 'not a hash')
    await expect(b.stateBackend.getWorkflowData('w1', 'k')).rejects.toBeInstanceOf(CorruptDataError)
  })

  it('a history key of the wrong type: the claim writes nothing, and claims whole once the key is restored', async () => {
    const [a, c] = newRequests(2)
    await b.orchestrator.register([a!, c!])
    const inv = `${p}o:i:${a!.id}`
    const before = await raw.hgetall(inv)
    await raw.del(`${p}o:h:${a!.id}`)
    await raw.set(`${p}o:h:${a!.id}`, 'not a list')
    const err = await b.orchestrator.claim([c!.id, a!.id], 'r1').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CorruptDataError)
    expect((err as CorruptDataError).location).toBe(`${p}o:h:${a!.id}`)
    expect(await raw.hgetall(inv)).toEqual(before)
    expect((await b.orchestrator.getStates([c!.id]))[0]!.status).toBe('registered')
    expect(await raw.zcard(`${p}o:active`)).toBe(0)
    await raw.del(`${p}o:h:${a!.id}`)
    const claims = await b.orchestrator.claim([c!.id, a!.id], 'r1')
    expect(claims.map((x) => x.outcome)).toEqual(['claimed', 'claimed'])
    expect((await b.orchestrator.getStates([a!.id]))[0]).toMatchObject({ status: 'pending', owner: 'r1' })
    expect(await raw.zscore(`${p}o:active`, a!.id)).not.toBeNull()
    expect(await raw.llen(`${p}o:h:${a!.id}`)).toBe(1)
  })

  it('a foreign key among the keys a script writes: register and transition write nothing', async () => {
    const [a, c] = newRequests(2)
    await raw.set(`${p}o:h:${c!.id}`, 'not a list')
    await expect(b.orchestrator.register([a!, c!])).rejects.toBeInstanceOf(CorruptDataError)
    expect(await raw.exists(`${p}o:i:${a!.id}`, `${p}o:i:${c!.id}`)).toBe(0)
    await raw.del(`${p}o:h:${c!.id}`)
    await b.orchestrator.register([a!, c!])
    await raw.del(`${p}o:h:${a!.id}`)
    await raw.set(`${p}o:h:${a!.id}`, 'not a list')
    await expect(
      b.orchestrator.transition([
        { id: c!.id, to: 'pending', actor: 'r1' },
        { id: a!.id, to: 'pending', actor: 'r1' },
      ]),
    ).rejects.toBeInstanceOf(CorruptDataError)
    expect((await b.orchestrator.getStates([c!.id]))[0]!.status).toBe('registered')
    expect(await raw.zcard(`${p}o:active`)).toBe(0)
  })

  it("a foreign value under a running key's parked list: claim and transition write nothing", async () => {
    const [a, c] = newRequests(2, { runningKey: 'pk', rerouteOnConcurrencyControl: true })
    await b.orchestrator.register([a!, c!])
    await b.orchestrator.claim([a!.id], 'r1')
    await raw.set(`${p}o:park:pk`, 'not a list')
    const err = await b.orchestrator.claim([c!.id], 'r1').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CorruptDataError)
    expect((err as CorruptDataError).location).toBe(`${p}o:park:pk`)
    await expect(
      b.orchestrator.transition([{ id: a!.id, to: 'killed', actor: 'r1' }]),
    ).rejects.toBeInstanceOf(CorruptDataError)
    expect((await b.orchestrator.getStates([a!.id, c!.id])).map((s) => s!.status)).toEqual([
      'pending',
      'registered',
    ])
    await raw.del(`${p}o:park:pk`)
    expect((await b.orchestrator.claim([c!.id], 'r1'))[0]!.outcome).toBe('controlled')
    const [done] = await b.orchestrator.transition([{ id: a!.id, to: 'killed', actor: 'r1' }])
    expect(done).toMatchObject({ ok: true, released: [c!.id] })
  })

  it('a foreign message on the final channel is ignored', async () => {
    const seen: string[][] = []
    const unsubscribe = await b.orchestrator.subscribeFinal((ids) => seen.push(ids))
    await raw.publish(`${p}o:final`, 'hello')
    await raw.publish(`${p}o:final`, '{"a":1}')
    await raw.publish(`${p}o:final`, '["x"]')
    const t0 = Date.now()
    while (seen.length === 0 && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 5))
    expect(seen).toEqual([['x']])
    await unsubscribe()
  })
})
