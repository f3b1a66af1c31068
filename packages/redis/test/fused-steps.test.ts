import { newRequests, recordFor } from '@nenc/conformance'
import { CorruptDataError, Nenc } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import type { RedisConnection } from '../src/redis-connection.js'
import { destroyBackend, freshAppId, initBackend, REDIS_URL, rawClient } from './helpers.js'

const result = (value: string) => ({ kind: 'result' as const, value })

/**
 * Counts the top-level commands (what a round trip carries; not the commands scripts run inside)
 * the backend's command connection sends, through MONITOR on a probe connection.
 */
async function commandCounter(b: RedisBackend) {
  const conn = (b.orchestrator as unknown as { conn: RedisConnection }).conn
  const name = `nenc-count-${Math.random().toString(36).slice(2)}`
  await conn.client.client('SETNAME', name)
  const probe = rawClient()
  const list = String(await probe.client('LIST'))
  const addr = /addr=(\S+)/.exec(list.split('\n').find((l) => l.includes(`name=${name} `)) ?? '')?.[1]
  if (!addr) throw new Error('command connection not found in CLIENT LIST')
  const monitor = await probe.monitor()
  const seen: string[][] = []
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === addr) seen.push(args)
  })
  await new Promise((r) => setTimeout(r, 50))
  return {
    /** Commands sent by `run`, by name. */
    async during(run: () => Promise<unknown>): Promise<string[]> {
      await new Promise((r) => setTimeout(r, 30))
      seen.length = 0
      await run()
      await new Promise((r) => setTimeout(r, 50))
      return seen.map((a) => a[0]!.toLowerCase())
    },
    async close() {
      monitor.disconnect()
      probe.disconnect()
    },
  }
}

describe('redis fused steps', () => {
  let b: RedisBackend
  let raw: Redis | null = null
  afterEach(async () => {
    raw?.disconnect()
    raw = null
    await destroyBackend(b)
  })

  async function routed(n: number) {
    const reqs = newRequests(n)
    await b.steps.route(reqs.map(recordFor), reqs)
    return reqs
  }

  it('a final-status notification carries the small outcomes the finish stored, so a waiter needs no read', async () => {
    b = await initBackend(freshAppId('inline'))
    const heard: { ids: string[]; outcomes?: ReadonlyMap<string, unknown> }[] = []
    const stop = await b.orchestrator.subscribeFinal((ids, outcomes) => heard.push({ ids, outcomes }))
    const [small, big] = await routed(2)
    const claimed = await b.steps.claimQueued('r1', 2, true)
    expect(claimed.claimed).toHaveLength(2)
    const large = `"${'x'.repeat(5000)}"`
    await b.steps.finish(
      'r1',
      [
        { id: small!.id, attempt: 1, to: 'success', outcome: result('42') },
        { id: big!.id, attempt: 1, to: 'failed', outcome: { kind: 'error', value: large } },
      ],
      0,
    )
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(heard).toHaveLength(1)
    expect(heard[0]!.ids.sort()).toEqual([small!.id, big!.id].sort())
    // The small outcome rides along; the large one is left to a read.
    expect([...(heard[0]!.outcomes ?? new Map())]).toEqual([[small!.id, result('42')]])
    await stop()
  })

  it('claimQueued returns the claimed states with their records; a corrupt record fails its own id only', async () => {
    const appId = freshAppId('fused-claim')
    b = await initBackend(appId)
    const reqs = await routed(3)
    raw = rawClient()
    await raw.set(`nenc:{${appId}}:s:rec:${reqs[1]!.id}`, '{"id": 1')
    await raw.rpush(`nenc:{${appId}}:b:queue`, reqs[0]!.id) // a duplicate queue entry
    const batch = await b.steps.claimQueued('r1', 10)
    expect(batch.sawQueued).toBe(true)
    expect(batch.unclaimed).toEqual([])
    expect(batch.claimed.map((c) => [c.state.id, c.state.status, c.state.owner, c.state.attempt])).toEqual(
      reqs.map((r) => [r.id, 'pending', 'r1', 1]),
    )
    expect(batch.claimed[0]!.record).toMatchObject({
      id: reqs[0]!.id,
      callId: reqs[0]!.callId,
      taskName: 'task',
    })
    expect(batch.claimed[1]!.record).toBeNull()
    expect(batch.claimed[1]!.recordError).toBeInstanceOf(CorruptDataError)
    expect(batch.claimed[2]!.recordError).toBeUndefined()
    // Queue drained (the duplicate was popped in the same step and dropped).
    expect(await b.steps.claimQueued('r1', 10)).toEqual({ claimed: [], unclaimed: [], sawQueued: false })
    // claimIds: the same with given ids, a non-available one skipped.
    const ids = await b.steps.claimIds('r2', [reqs[0]!.id])
    expect(ids).toEqual({
      claimed: [],
      unclaimed: [{ id: reqs[0]!.id, outcome: 'skipped' }],
      sawQueued: false,
    })
  })

  it('with start, the claim steps move each claimed invocation on to RUNNING in the same step', async () => {
    const appId = freshAppId('fused-start')
    b = await initBackend(appId)
    const reqs = await routed(3)
    const batch = await b.steps.claimQueued('r1', 1, true)
    expect(batch.unclaimed).toEqual([])
    expect(batch.claimed).toHaveLength(1)
    const [c] = batch.claimed
    const id = reqs[0]!.id
    expect(c!.state).toMatchObject({ id, status: 'running', owner: 'r1', attempt: 1, retries: 0 })
    expect(c!.record).toMatchObject({ id, callId: reqs[0]!.callId })
    expect(await b.orchestrator.getStates([id])).toEqual([c!.state])
    const history = await b.orchestrator.getHistory(id)
    expect(history.map((h) => [h.status, h.owner, h.actor, h.attempt])).toEqual([
      ['registered', null, 'conformance-client', 0],
      ['pending', 'r1', 'r1', 1],
      ['running', 'r1', 'r1', 1],
    ])
    expect(history[2]!.timestamp).toBeGreaterThanOrEqual(history[1]!.timestamp)
    // Counted active once (claimed when it entered PENDING), and finished from RUNNING.
    raw = rawClient()
    expect(await raw.zrange(`nenc:{${appId}}:o:active`, 0, -1)).toEqual([id])
    const fin = await b.steps.finish('r1', [{ id, attempt: 1, to: 'success', outcome: result('1') }], 5, true)
    expect(fin.outcomes[0]).toMatchObject({ ok: true, state: { status: 'success' } })
    expect(fin.next.claimed.map((n) => [n.state.id, n.state.status, n.state.attempt])).toEqual([
      [reqs[1]!.id, 'running', 1],
      [reqs[2]!.id, 'running', 1],
    ])
    expect((await raw.zrange(`nenc:{${appId}}:o:active`, 0, -1)).sort()).toEqual(
      [reqs[1]!.id, reqs[2]!.id].sort(),
    )
    // Without start, today's PENDING.
    const [again] = await routed(1)
    expect((await b.steps.claimQueued('r2', 1)).claimed.map((n) => [n.state.id, n.state.status])).toEqual([
      [again!.id, 'pending'],
    ])
  })

  it('route queues only the ids not reused, with their records, in one step', async () => {
    const appId = freshAppId('fused-route')
    b = await initBackend(appId)
    const reqs = newRequests(3, { registrationKey: 'k' })
    const res = await b.steps.route(reqs.map(recordFor), reqs)
    expect(res.map((r) => r.reused)).toEqual([false, true, true])
    expect(await b.broker.retrieve(10)).toEqual([reqs[0]!.id])
    expect((await b.stateBackend.getInvocations([reqs[0]!.id]))[0]?.callId).toBe(reqs[0]!.callId)
  })

  it('the fused finish refuses a stale attempt: outcome, status and history unchanged', async () => {
    const appId = freshAppId('fused-stale')
    b = await initBackend(appId)
    const [req] = await routed(1)
    const id = req!.id
    await b.steps.claimQueued('r1', 1)
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
    // r1 is presumed dead: recovery reroutes, r2 claims attempt 2.
    await b.orchestrator.transition([{ id, to: 'running_recovery', actor: null }])
    await b.orchestrator.transition([{ id, to: 'rerouted', actor: null }])
    expect((await b.steps.claimIds('r2', [id])).claimed.map((c) => c.state.attempt)).toEqual([2])
    const before = await b.orchestrator.getHistory(id)
    const late = await b.steps.finish('r1', [{ id, attempt: 1, to: 'success', outcome: result('"late"') }], 0)
    expect(late.outcomes[0]).toMatchObject({
      ok: false,
      reason: 'stale',
      attempt: 1,
      current: { status: 'pending', owner: 'r2', attempt: 2 },
    })
    expect(late.next).toEqual({ claimed: [], unclaimed: [], sawQueued: false })
    expect(await b.orchestrator.getHistory(id)).toEqual(before)
    expect(await b.orchestrator.getStates([id])).toMatchObject([
      { status: 'pending', owner: 'r2', attempt: 2 },
    ])
    expect(
      await b.stateBackend.getOutcomes([
        { id, attempt: 1 },
        { id, attempt: 2 },
      ]),
    ).toEqual([null, null])
    // The plain transition is fenced the same way, before its ownership check.
    const [plain] = await b.orchestrator.transition([{ id, to: 'running', actor: 'r2', attempt: 1 }])
    expect(plain).toMatchObject({ ok: false, reason: 'stale', attempt: 1 })
    // The current attempt's runner finishes; readFinal reads that attempt's outcome.
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r2', attempt: 2 }])
    const fin = await b.steps.finish('r2', [{ id, attempt: 2, to: 'success', outcome: result('"ok"') }], 0)
    expect(fin.outcomes[0]).toMatchObject({ ok: true, state: { status: 'success', attempt: 2 } })
    expect(await b.steps.readFinal([id, 'unknown'])).toEqual([
      { state: expect.objectContaining({ id, status: 'success', attempt: 2 }), outcome: result('"ok"') },
      { state: null, outcome: null },
    ])
  })

  it('outcomes are write-once per attempt, through setOutcomes and through finish', async () => {
    const appId = freshAppId('fused-once')
    b = await initBackend(appId)
    const [req] = await routed(1)
    const id = req!.id
    await b.stateBackend.setOutcomes([{ id, attempt: 1, outcome: result('1') }])
    await b.stateBackend.setOutcomes([
      { id, attempt: 1, outcome: result('2') },
      { id, attempt: 3, outcome: result('3') },
    ])
    expect(
      await b.stateBackend.getOutcomes([
        { id, attempt: 1 },
        { id, attempt: 2 },
        { id, attempt: 3 },
      ]),
    ).toEqual([result('1'), null, result('3')])
    // finish's accepted transition keeps an outcome already stored for its attempt.
    await b.steps.claimQueued('r1', 1)
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
    await b.steps.finish('r1', [{ id, attempt: 1, to: 'failed', outcome: { kind: 'error', value: 'e' } }], 0)
    expect(await b.steps.readFinal([id])).toMatchObject([
      { state: { status: 'failed' }, outcome: result('1') },
    ])
    // readFinal of a non-final state: no outcome.
    const [other] = await routed(1)
    await b.stateBackend.setOutcomes([{ id: other!.id, attempt: 0, outcome: result('x') }])
    expect(await b.steps.readFinal([other!.id])).toMatchObject([
      { state: { status: 'registered' }, outcome: null },
    ])
    // Purge removes them.
    await b.stateBackend.purge()
    expect(await b.stateBackend.getOutcomes([{ id, attempt: 1 }])).toEqual([null])
  })

  it('a foreign value under an outcome key refuses the whole finish before it writes anything', async () => {
    const appId = freshAppId('fused-corrupt')
    b = await initBackend(appId)
    const [req] = await routed(1)
    const id = req!.id
    await b.steps.claimQueued('r1', 1)
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
    raw = rawClient()
    await raw.set(`nenc:{${appId}}:s:out:${id}`, 'not a hash')
    const before = await b.orchestrator.getHistory(id)
    await expect(
      b.steps.finish('r1', [{ id, attempt: 1, to: 'success', outcome: result('1') }], 5),
    ).rejects.toBeInstanceOf(CorruptDataError)
    expect(await b.orchestrator.getHistory(id)).toEqual(before)
    expect(await b.orchestrator.getStates([id])).toMatchObject([{ status: 'running', attempt: 1 }])
  })

  it('finish queues accepted RETRYs after their delay and claims the next ids in the same step', async () => {
    const appId = freshAppId('fused-finish')
    b = await initBackend(appId)
    const reqs = await routed(3)
    const [a] = (await b.steps.claimQueued('r1', 1)).claimed
    const id = a!.state.id
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
    const fin = await b.steps.finish('r1', [{ id, attempt: 1, to: 'retry', delayMs: 0 }], 5)
    expect(fin.outcomes[0]).toMatchObject({ ok: true, state: { status: 'retry', retries: 1 } })
    // The two still queued, then the retried one (queued behind them), as its next attempt.
    expect(fin.next.sawQueued).toBe(true)
    expect(fin.next.claimed.map((c) => [c.state.id, c.state.attempt])).toEqual([
      [reqs[1]!.id, 1],
      [reqs[2]!.id, 1],
      [id, 2],
    ])
    expect(fin.next.claimed.every((c) => c.record !== null)).toBe(true)
  })

  it('the claim steps park what running concurrency blocks; finish reports what its ends release', async () => {
    const appId = freshAppId('fused-park')
    b = await initBackend(appId)
    const reqs = newRequests(4, { runningKey: 'pk', rerouteOnConcurrencyControl: true })
    await b.steps.route(reqs.map(recordFor), reqs.slice(0, 3))
    await b.orchestrator.register([reqs[3]!])
    const batch = await b.steps.claimQueued('r1', 3, true)
    expect(batch.claimed.map((c) => c.state.id)).toEqual([reqs[0]!.id])
    expect(batch.unclaimed).toEqual([
      { id: reqs[1]!.id, outcome: 'controlled' },
      { id: reqs[2]!.id, outcome: 'controlled' },
    ])
    expect((await b.steps.claimIds('r1', [reqs[3]!.id])).unclaimed).toEqual([
      { id: reqs[3]!.id, outcome: 'controlled' },
    ])
    raw = rawClient()
    expect(await raw.lrange(`nenc:{${appId}}:o:park:pk`, 0, -1)).toEqual(reqs.slice(1).map((r) => r.id))
    const fin = await b.steps.finish(
      'r1',
      [{ id: reqs[0]!.id, attempt: 1, to: 'success', outcome: result('1') }],
      2,
      true,
    )
    expect(fin.outcomes).toEqual([
      { ok: true, state: expect.objectContaining({ status: 'success' }), released: [reqs[1]!.id] },
    ])
    expect(fin.next.claimed).toEqual([])
    expect(await raw.lrange(`nenc:{${appId}}:o:park:pk`, 0, -1)).toEqual([reqs[2]!.id, reqs[3]!.id])
  })

  it('each step is one round trip; a runner spends few commands per invocation', async () => {
    const appId = freshAppId('fused-count')
    b = await initBackend(appId)
    const counter = await commandCounter(b)
    try {
      // Warm every script up on the socket (its first use carries a SCRIPT LOAD).
      const warm = await routed(1)
      await b.steps.claimQueued('w', 1)
      await b.steps.claimIds('w', [warm[0]!.id])
      await b.steps.finish('w', [], 1)
      await b.steps.readFinal([warm[0]!.id])

      const reqs = newRequests(20)
      const records = reqs.map(recordFor)
      expect(await counter.during(() => b.steps.route(records, reqs))).toEqual(['evalsha'])
      let claimed: string[] = []
      expect(
        await counter.during(async () => {
          claimed = (await b.steps.claimQueued('r1', 10)).claimed.map((c) => c.state.id)
        }),
      ).toEqual(['evalsha'])
      expect(await counter.during(() => b.steps.claimIds('r1', [reqs[15]!.id]))).toEqual(['evalsha'])
      await b.orchestrator.transition(claimed.map((id) => ({ id, to: 'running', actor: 'r1', attempt: 1 })))
      const items = claimed.map((id) => ({ id, attempt: 1, to: 'success' as const, outcome: result('1') }))
      expect(await counter.during(() => b.steps.finish('r1', items, 10))).toEqual(['evalsha'])
      expect(await counter.during(() => b.steps.readFinal(claimed))).toEqual(['evalsha'])
      // Asked to start what they claim, the claim steps are still one round trip.
      const more = await routed(4)
      let started: string[] = []
      expect(
        await counter.during(async () => {
          started = (await b.steps.claimQueued('r1', 2, true)).claimed.map((c) => c.state.id)
        }),
      ).toEqual(['evalsha'])
      expect(started).toEqual([more[0]!.id, more[1]!.id])
      const done = started.map((id) => ({ id, attempt: 1, to: 'success' as const, outcome: result('1') }))
      let next: string[] = []
      expect(
        await counter.during(async () => {
          next = (await b.steps.finish('r1', done, 2, true)).next.claimed.map((c) => c.state.status)
        }),
      ).toEqual(['evalsha'])
      expect(next).toEqual(['running', 'running'])
    } finally {
      await counter.close()
    }

    // A whole run through a ThreadRunner: route, claim, RUNNING, finish (+ claim next), result.
    const appId2 = freshAppId('fused-count-run')
    const b2 = await initBackend(appId2, { url: REDIS_URL })
    const counter2 = await commandCounter(b2)
    const app = new Nenc({
      appId: appId2,
      backend: b2,
      runner: new ThreadRunner({ maxThreads: 8 }),
      config: { runner: { idleWakeMs: 200, heartbeatIntervalMs: 5000 } },
      env: {},
    })
    const double = app.task('double', async (x: number) => x * 2)
    try {
      await app.runner.start()
      await (await double(0)).result() // warm up
      const n = 200
      const commands = await counter2.during(async () => {
        const group = await double.parallelize(Array.from({ length: n }, (_, i) => [i] as [number]))
        expect(await group.results()).toEqual(Array.from({ length: n }, (_, i) => i * 2))
      })
      // The old component-link path spent ~5 commands per invocation; the fused steps must not
      // spend more (heartbeats, recovery and idle wake-ups included).
      if (process.env.NENC_COUNT_LOG) {
        const byName: Record<string, number> = {}
        for (const c of commands) byName[c] = (byName[c] ?? 0) + 1
        console.log(`${commands.length} commands for ${n} invocations`, byName)
      }
      expect(commands.length / n).toBeLessThan(2.5)
    } finally {
      await app.runner.stop()
      await app.waiter.close()
      await counter2.close()
      await destroyBackend(b2)
    }
  }, 30_000)
})
