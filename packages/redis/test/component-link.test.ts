import { newRequests } from '@nenc/conformance'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend, rawClient } from './helpers.js'

/** Round trips saved between the components of one backend (ComponentLink). */
describe('components sharing a connection', () => {
  let raw: Redis
  let b: RedisBackend
  let appId: string
  beforeAll(() => {
    raw = rawClient()
  })
  afterAll(() => raw.disconnect())
  afterEach(async () => destroyBackend(b))

  const running = async (n: number, runner = 'r1') => {
    const reqs = newRequests(n)
    await b.orchestrator.register(reqs)
    await b.orchestrator.claim(
      reqs.map((r) => r.id),
      runner,
    )
    await b.orchestrator.transition(reqs.map((r) => ({ id: r.id, to: 'running' as const, actor: runner })))
    return reqs.map((r) => r.id)
  }

  it('outcomes are written by the final transition itself, and read back at once on this connection', async () => {
    appId = freshAppId('outcomes')
    b = await initBackend(appId)
    const [id] = await running(1)
    await b.stateBackend.setOutcomes([{ id: id!, outcome: { kind: 'result', value: '42' } }])
    expect(await b.stateBackend.getOutcomes([id!])).toEqual([{ kind: 'result', value: '42' }])
    await b.orchestrator.transition([{ id: id!, to: 'success', actor: 'r1' }])
    // Another connection sees the outcome as soon as it sees the final status.
    expect(await raw.get(`nenc:{${appId}}:s:out:${id}`)).toBe('r42')
    expect(await raw.hget(`nenc:{${appId}}:o:i:${id}`, 's')).toBe('success')
  })

  it('outcomes with no transition after them are written within a tick', async () => {
    appId = freshAppId('flush')
    b = await initBackend(appId)
    await b.stateBackend.setOutcomes([{ id: 'x', outcome: { kind: 'error', value: '{}' } }])
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setTimeout(r, 20))
    expect(await raw.get(`nenc:{${appId}}:s:out:x`)).toBe('e{}')
  })

  it('records are written by the register script, before the invocations exist; alone, within a tick', async () => {
    appId = freshAppId('records')
    b = await initBackend(appId)
    const [a, c] = newRequests(2)
    const record = (id: string, parentId: string | null) => ({
      id,
      taskId: 't',
      taskName: 't',
      callId: 'c',
      args: '[]',
      parentId,
      workflow: { id, type: 't', parentWorkflowId: null },
      createdAt: 1,
    })
    await b.stateBackend.upsertInvocations([record(a!.id, null), record(c!.id, a!.id)])
    expect(await raw.exists(`nenc:{${appId}}:s:rec:${a!.id}`)).toBe(0) // staged, not sent yet
    await b.orchestrator.register([a!, c!])
    expect(await raw.exists(`nenc:{${appId}}:s:rec:${a!.id}`, `nenc:{${appId}}:s:rec:${c!.id}`)).toBe(2)
    expect(await b.stateBackend.getChildInvocations(a!.id)).toEqual([c!.id])
    await b.stateBackend.upsertInvocations([record('alone', null)])
    expect((await b.stateBackend.getInvocations(['alone']))[0]!.id).toBe('alone') // reads settle first
    await b.stateBackend.upsertInvocations([record('later', null)])
    await new Promise((r) => setTimeout(r, 20))
    expect(await raw.exists(`nenc:{${appId}}:s:rec:later`)).toBe(1)
  })

  it('a failed transition keeps the staged outcomes for the next attempt', async () => {
    appId = freshAppId('restore')
    b = await initBackend(appId)
    const [id] = await running(1)
    const [bad] = newRequests(1)
    await raw.set(`nenc:{${appId}}:o:i:${bad!.id}`, 'garbage')
    await b.stateBackend.setOutcomes([{ id: id!, outcome: { kind: 'result', value: '1' } }])
    await expect(b.orchestrator.transition([{ id: bad!.id, to: 'success', actor: 'r1' }])).rejects.toThrow()
    expect(await b.stateBackend.getOutcomes([id!])).toEqual([{ kind: 'result', value: '1' }])
    await b.orchestrator.transition([{ id: id!, to: 'success', actor: 'r1' }])
    expect(await raw.get(`nenc:{${appId}}:s:out:${id}`)).toBe('r1')
  })

  it('the final transition of this process’s runner claims the next ids; retrieve and claim answer them locally; stopping gives the rest back', async () => {
    appId = freshAppId('ahead')
    b = await initBackend(appId)
    await b.orchestrator.heartbeat(['r1'], true)
    const unsubscribe = await b.broker.subscribe(() => {})
    const done = await running(2)
    const queued = newRequests(3)
    await b.orchestrator.register(queued)
    await b.broker.route(queued.map((q) => q.id))
    await b.orchestrator.transition(done.map((id) => ({ id, to: 'success' as const, actor: 'r1' })))
    // Two slots freed → the two oldest queued ids are claimed for r1 in the same step.
    expect(await raw.llen(`nenc:{${appId}}:b:queue`)).toBe(1)
    const states = await b.orchestrator.getStates(queued.map((q) => q.id))
    expect(states.map((s) => `${s!.status}/${s!.owner}`)).toEqual([
      'pending/r1',
      'pending/r1',
      'registered/null',
    ])
    const ids = await b.broker.retrieve(1)
    expect(ids).toEqual([queued[0]!.id])
    expect(await b.orchestrator.claim(ids, 'r1')).toMatchObject([
      { id: queued[0]!.id, outcome: 'claimed', state: { status: 'pending', owner: 'r1' } },
    ])
    expect(await b.orchestrator.getHistory(queued[0]!.id)).toHaveLength(2) // no second claim
    // The runner stops listening: the claim it never took is rerouted and queued again.
    await unsubscribe()
    expect((await b.orchestrator.getStates([queued[1]!.id]))[0]!.status).toBe('rerouted')
    expect(await raw.lrange(`nenc:{${appId}}:b:queue`, 0, -1)).toEqual([queued[2]!.id, queued[1]!.id])
  })

  it('no claims ahead for transitions of other actors, or with more than one runner in the process', async () => {
    appId = freshAppId('no-ahead')
    b = await initBackend(appId)
    const unsubscribe = await b.broker.subscribe(() => {})
    await b.orchestrator.heartbeat(['r1', 'r2'], true)
    const done = await running(1)
    const [q] = newRequests(1)
    await b.orchestrator.register([q!])
    await b.broker.route([q!.id])
    await b.orchestrator.transition(done.map((id) => ({ id, to: 'success' as const, actor: 'r1' })))
    expect(await raw.llen(`nenc:{${appId}}:b:queue`)).toBe(1)
    await unsubscribe()
  })
})
