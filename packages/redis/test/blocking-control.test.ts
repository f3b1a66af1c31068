import { newRequests } from '@nenc/conformance'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { destroyBackend, freshAppId, initBackend } from './helpers.js'

describe('blocking control across processes', () => {
  const live: RedisBackend[] = []
  afterEach(async () => {
    for (const b of live.splice(0)) await destroyBackend(b)
  })

  it('a runner that saw no waits learns of an edge added by another process without polling', async () => {
    const appId = freshAppId('waits')
    const runner = await initBackend(appId)
    const other = await initBackend(appId)
    live.push(runner, other)
    const [child, parent] = newRequests(2)
    await other.orchestrator.register([child!, parent!])
    expect(await runner.orchestrator.getBlockingInvocations(5)).toEqual([]) // subscribes
    await new Promise((r) => setTimeout(r, 50))
    expect(await runner.orchestrator.getBlockingInvocations(5)).toEqual([]) // now known empty
    await other.orchestrator.addWaiting(parent!.id, [child!.id])
    const t0 = Date.now()
    let found: string[] = []
    while (found.length === 0 && Date.now() - t0 < 1000) {
      found = await runner.orchestrator.getBlockingInvocations(5)
      if (!found.length) await new Promise((r) => setTimeout(r, 2))
    }
    expect(found).toEqual([child!.id])
    expect(Date.now() - t0).toBeLessThan(500)
  })

  it('releasing the last edge removes the entry; a waited invocation stays ranked while it has waiters', async () => {
    const appId = freshAppId('rank')
    const b = await initBackend(appId)
    live.push(b)
    const [x, y, w1, w2] = newRequests(4)
    await b.orchestrator.register([x!, y!, w1!, w2!])
    await b.orchestrator.addWaiting(w1!.id, [x!.id, y!.id])
    await b.orchestrator.addWaiting(w2!.id, [y!.id])
    await b.orchestrator.addWaiting(w2!.id, [y!.id]) // idempotent
    expect(await b.orchestrator.getBlockingInvocations(5)).toEqual([y!.id, x!.id])
    // w2 ends: y keeps one waiter, ties with x, x is older
    await b.orchestrator.claim([w2!.id], 'r')
    await b.orchestrator.transition([
      { id: w2!.id, to: 'running', actor: 'r' },
      { id: w2!.id, to: 'failed', actor: 'r' },
    ])
    expect(await b.orchestrator.getBlockingInvocations(5)).toEqual([x!.id, y!.id])
    await b.orchestrator.claim([w1!.id], 'r')
    await b.orchestrator.transition([
      { id: w1!.id, to: 'running', actor: 'r' },
      { id: w1!.id, to: 'success', actor: 'r' },
    ])
    expect(await b.orchestrator.getBlockingInvocations(5)).toEqual([])
  })
})
