import { newRequests } from '@nenc/conformance'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend } from './helpers.js'

describe('register-invocations.lua', () => {
  let b: RedisBackend
  afterEach(async () => destroyBackend(b))

  it('reuses the REGISTERED invocation of a registration key, within a batch and across calls', async () => {
    b = await initBackend(freshAppId('reuse'))
    const reqs = newRequests(4, { registrationKey: 'same' })
    const out = await b.orchestrator.register(reqs)
    expect(out).toEqual([
      { id: reqs[0]!.id, reused: false },
      ...reqs.slice(1).map((r) => ({ id: r.id, reused: true, existingId: reqs[0]!.id })),
    ])
    const [later] = newRequests(1, { registrationKey: 'same' })
    expect(await b.orchestrator.register([later!])).toEqual([
      { id: later!.id, reused: true, existingId: reqs[0]!.id },
    ])
    expect(await b.orchestrator.getStates(reqs.slice(1).map((r) => r.id))).toEqual([null, null, null])
    expect(await b.orchestrator.listInvocations({})).toEqual([reqs[0]!.id])
  })

  it('a repeated register of an existing id keeps the record and is not a reuse', async () => {
    b = await initBackend(freshAppId('repeat'))
    const [a] = newRequests(1, { registrationKey: 'k' })
    await b.orchestrator.register([a!])
    await b.orchestrator.claim([a!.id], 'r1')
    expect(await b.orchestrator.register([a!])).toEqual([{ id: a!.id, reused: false }])
    expect((await b.orchestrator.getStates([a!.id]))[0]!.status).toBe('pending')
    expect(await b.orchestrator.getHistory(a!.id)).toHaveLength(2)
  })

  it('registers 1,000 invocations in one call (chunked scripts, one round trip), listed newest first', async () => {
    b = await initBackend(freshAppId('many'))
    const reqs = newRequests(1000, { taskId: 'app.many' })
    const out = await b.orchestrator.register(reqs)
    expect(out.every((o, i) => !o.reused && o.id === reqs[i]!.id)).toBe(true)
    const listed = await b.orchestrator.listInvocations({ taskId: 'app.many', limit: 2000 })
    expect(listed).toHaveLength(1000)
    expect(await b.orchestrator.listInvocations({ taskId: 'app.other' })).toEqual([])
    const registered = await b.orchestrator.listInvocations({
      statuses: ['registered'],
      limit: 5,
      offset: 10,
    })
    expect(registered).toEqual(listed.slice(10, 15))
  })
})
