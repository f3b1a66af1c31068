import { newRequests } from '@nenc/conformance'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { transitionInvocations } from '../src/lua/transition-invocations.js'
import type { RedisConnection } from '../src/redis-connection.js'
import { destroyBackend, freshAppId, initBackend } from './helpers.js'

describe('transition-invocations.lua replay of a call whose answer was lost', () => {
  let b: RedisBackend
  afterEach(async () => destroyBackend(b))

  it('a replay with the same token answers what the first call applied and applies nothing twice', async () => {
    const appId = freshAppId('replay')
    b = await initBackend(appId)
    const [a, c] = newRequests(2)
    await b.orchestrator.register([a!, c!])
    await b.orchestrator.claim([a!.id, c!.id], 'r1')
    const conn = (b.orchestrator as unknown as { conn: RedisConnection }).conn
    const p = `nenc:{${appId}}:`
    const keys = [`${p}o:active`, `${p}o:waited`, `${p}o:live`]
    const args = (replay: '0' | '1', ids: string[]) => [
      p,
      `${p}o:final`,
      'token-1',
      replay,
      '',
      '',
      '0',
      '0',
      ...ids.flatMap((id) => [id, 'running', 'r1', '1', '', '']),
    ]
    await conn.scripts.evalMany(transitionInvocations, [{ keys, args: args('0', [a!.id]) }]) // "answer lost"
    const [reply] = (await conn.scripts.evalMany(transitionInvocations, [
      { keys, args: args('1', [a!.id, c!.id]) },
    ])) as unknown[][]
    expect(reply![1]).toBe(0) // a: already applied by the lost call → ok
    expect(reply![2]).toBe('running')
    expect(reply![8]).toBeNull() // a: released nothing
    expect(reply![9]).toBe(0) // c: applied now
    expect((await b.orchestrator.getHistory(a!.id)).map((h) => h.status)).toEqual([
      'registered',
      'pending',
      'running',
    ])
    expect((await b.orchestrator.getHistory(c!.id)).map((h) => h.status)).toEqual([
      'registered',
      'pending',
      'running',
    ])
    // Without the replay flag the same request is an invalid transition, as it should be.
    const [plain] = (await conn.scripts.evalMany(transitionInvocations, [
      { keys, args: args('0', [a!.id]) },
    ])) as unknown[][]
    expect(plain![1]).toBe(2)
  })

  it('a replayed claim step returns what the lost call claimed (and started) instead of leaving it orphaned', async () => {
    const appId = freshAppId('replay-claim')
    b = await initBackend(appId)
    const reqs = newRequests(3)
    await b.orchestrator.register(reqs)
    await b.broker.route(reqs.map((r) => r.id))
    const conn = (b.orchestrator as unknown as { conn: RedisConnection }).conn
    const p = `nenc:{${appId}}:`
    const keys = [`${p}o:active`, `${p}o:waited`, `${p}o:live`, `${p}b:queue`, `${p}b:delayed`, `${p}b:seq`]
    const args = (replay: string) => [p, `${p}o:final`, 'token-2', replay, `${p}b:routed`, 'r1', '2', '1']
    await conn.scripts.evalMany(transitionInvocations, [{ keys, args: args('0') }]) // "answer lost"
    const [reply] = (await conn.scripts.evalMany(transitionInvocations, [
      { keys, args: args('200') },
    ])) as unknown[][]
    // now, saw queued, next due, count, then per claim: id, code, retries, task, attempt, record
    expect(reply![3]).toBe(2)
    expect([reply![4], reply![10]]).toEqual([reqs[0]!.id, reqs[1]!.id])
    expect([reply![5], reply![11]]).toEqual([0, 0])
    expect(await b.broker.retrieve(10)).toEqual([reqs[2]!.id]) // nothing more popped
    expect((await b.orchestrator.getHistory(reqs[0]!.id)).map((h) => h.status)).toEqual([
      'registered',
      'pending',
      'running',
    ])
  })
})
