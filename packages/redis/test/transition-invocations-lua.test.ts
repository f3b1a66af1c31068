import { newRequests } from '@nenc/conformance'
import type { InvocationStatus } from '@nenc/core'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend, rawClient } from './helpers.js'

/** Every key of the app with its type and content, to prove a rejected transition wrote nothing. */
async function snapshot(raw: Redis, appId: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const key of (await raw.keys(`nenc:{${appId}}:*`)).sort()) {
    const type = await raw.type(key)
    if (type === 'hash') out[key] = await raw.hgetall(key)
    else if (type === 'list') out[key] = await raw.lrange(key, 0, -1)
    else if (type === 'set') out[key] = (await raw.smembers(key)).sort()
    else if (type === 'zset') out[key] = await raw.zrange(key, 0, -1, 'WITHSCORES')
    else out[key] = await raw.get(key)
  }
  return out
}

describe('transition-invocations.lua', () => {
  let raw: Redis
  let b: RedisBackend
  let appId: string
  beforeAll(() => {
    raw = rawClient()
  })
  afterAll(() => raw.disconnect())
  afterEach(async () => destroyBackend(b))

  const drive = async (id: string, steps: InvocationStatus[], actor = 'r1') => {
    for (const to of steps) {
      const [o] = await b.orchestrator.transition([{ id, to, actor }])
      expect(o!.ok, `→ ${to}`).toBe(true)
    }
  }

  it('invalid and ownership-rejected transitions write nothing at all (no key changes)', async () => {
    appId = freshAppId('reject')
    b = await initBackend(appId)
    const [a, c] = newRequests(2, { runningKey: 'rk', registrationKey: 'reg' })
    c!.registrationKey = 'reg-2'
    await b.orchestrator.register([a!, c!])
    await drive(a!.id, ['pending', 'running'])
    const before = await snapshot(raw, appId)
    const out = await b.orchestrator.transition([
      { id: a!.id, to: 'registered', actor: 'r1' }, // not allowed from RUNNING
      { id: a!.id, to: 'success', actor: 'intruder' }, // not the owner
      { id: c!.id, to: 'success', actor: 'r1' }, // not allowed from REGISTERED
      { id: c!.id, to: 'pending', actor: null }, // PENDING needs an owner
      { id: 'missing', to: 'pending', actor: 'r1' },
      { id: a!.id, to: 'bogus' as InvocationStatus, actor: 'r1' },
    ])
    expect(out.map((o) => (o.ok ? 'ok' : o.reason))).toEqual([
      'invalid_transition',
      'ownership',
      'invalid_transition',
      'ownership',
      'not_found',
      'invalid_transition',
    ])
    expect(out[1]).toMatchObject({
      current: { status: 'running', owner: 'r1' },
      detail: 'only the owner may leave running',
    })
    expect(out[0]).toMatchObject({
      allowed: ['paused', 'killed', 'retry', 'success', 'failed', 'running_recovery'],
    })
    expect(await snapshot(raw, appId)).toEqual(before)
  })

  it('a successful batch keeps every index in step: registration key, running key, active and live sets', async () => {
    appId = freshAppId('indexes')
    b = await initBackend(appId)
    const [a] = newRequests(1, { runningKey: 'rk', registrationKey: 'reg' })
    await b.orchestrator.register([a!])
    const p = `nenc:{${appId}}:o:`
    expect(await raw.smembers(`${p}reg:reg`)).toEqual([a!.id])
    await drive(a!.id, ['pending'])
    expect(await raw.exists(`${p}reg:reg`)).toBe(0)
    expect(await raw.smembers(`${p}run:rk`)).toEqual([a!.id])
    expect(await raw.zscore(`${p}active`, a!.id)).not.toBeNull()
    await drive(a!.id, ['running', 'retry'])
    expect(await raw.exists(`${p}run:rk`)).toBe(0)
    expect(await raw.zscore(`${p}active`, a!.id)).toBeNull()
    await drive(a!.id, ['pending', 'running', 'success'])
    expect(await raw.zscore(`${p}live`, a!.id)).toBeNull()
    expect(await raw.zscore(`${p}all`, a!.id)).not.toBeNull()
    const [state] = await b.orchestrator.getStates([a!.id])
    expect(state).toMatchObject({ status: 'success', owner: null, retries: 1 })
  })

  it('history is one compact list entry per status change, readable back with owner and actor', async () => {
    appId = freshAppId('history')
    b = await initBackend(appId)
    const [a] = newRequests(1)
    await b.orchestrator.register([a!])
    await drive(a!.id, ['pending', 'running', 'success'])
    expect(await raw.llen(`nenc:{${appId}}:o:h:${a!.id}`)).toBe(4)
    const h = await b.orchestrator.getHistory(a!.id)
    expect(h.map((e) => [e.status, e.owner, e.actor])).toEqual([
      ['registered', null, 'conformance-client'],
      ['pending', 'r1', 'r1'],
      ['running', 'r1', 'r1'],
      ['success', null, 'r1'],
    ])
    expect(await b.orchestrator.getHistory('unknown')).toEqual([])
  })

  it('final statuses are published from the script, and a waiting result() needs no polling', async () => {
    appId = freshAppId('final')
    b = await initBackend(appId)
    const seen: string[][] = []
    const unsubscribe = await b.orchestrator.subscribeFinal((ids) => seen.push(ids))
    const reqs = newRequests(3)
    await b.orchestrator.register(reqs)
    await b.orchestrator.claim(
      reqs.map((r) => r.id),
      'r1',
    )
    await b.orchestrator.transition(reqs.map((r) => ({ id: r.id, to: 'running' as const, actor: 'r1' })))
    const t0 = Date.now()
    await b.orchestrator.transition(reqs.map((r) => ({ id: r.id, to: 'success' as const, actor: 'r1' })))
    while (seen.length === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 2))
    expect(Date.now() - t0).toBeLessThan(500)
    expect(seen).toEqual([reqs.map((r) => r.id)]) // one message for the whole batch
    await unsubscribe()
  })
})
