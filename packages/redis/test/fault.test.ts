import { newRequests } from '@nenc/conformance'
import { BackendUnavailableError, Nenc } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type RedisBackend, redisBackend } from '../src/index.js'
import { componentsOf, freshAppId } from './helpers.js'
import { freePort, RedisServer } from './redis-server.js'

// The runner logs every failed iteration while Redis is down; that is expected here.
process.env.NENC_LOG_LEVEL ??= 'fatal'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Retries `fn` until it stops throwing (the server is back and the client reconnected). */
async function whenBack<T>(fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > until) throw err
      await sleep(50)
    }
  }
}

describe('a Redis server that stops and comes back (real redis-server with AOF)', () => {
  let server: RedisServer
  beforeEach(async () => {
    server = new RedisServer(await freePort())
    await server.start()
  })
  afterEach(async () => {
    await server.destroy()
  })

  it('calls fail fast with BackendUnavailableError while it is down, work again after, and nothing routed is lost', async () => {
    const appId = freshAppId('fault')
    const backend: RedisBackend = redisBackend({ url: server.url, connectTimeoutMs: 1000 })
    for (const c of componentsOf(backend)) await c.init({ appId })
    let wakes = 0
    await backend.broker.subscribe(() => wakes++)
    const reqs = newRequests(50)
    await backend.orchestrator.register(reqs)
    await backend.broker.route(reqs.map((r) => r.id))
    const delayedAt = Date.now()
    await backend.broker.route(['delayed-1'], { delayMs: 3000 })

    await server.stop()
    const calls: [string, () => Promise<unknown>][] = [
      ['retrieve', () => backend.broker.retrieve(10)],
      ['route', () => backend.broker.route(['lost?'])],
      ['claim', () => backend.orchestrator.claim([reqs[0]!.id], 'r1')],
      ['getStates', () => backend.orchestrator.getStates([reqs[0]!.id])],
      ['getOutcomes', () => backend.stateBackend.getOutcomes([{ id: reqs[0]!.id, attempt: 0 }])],
      ['store', () => backend.clientDataStore.store([{ key: 'k', value: 'v' }])],
      ['cron', () => backend.triggerStore.getLastCronExecution('c')],
    ]
    for (const [name, call] of calls) {
      const t0 = Date.now()
      const err = await call().catch((e: unknown) => e)
      expect(err, name).toBeInstanceOf(BackendUnavailableError)
      expect((err as BackendUnavailableError).backend).toBe('redis')
      expect((err as Error).cause, name).toBeDefined()
      expect(Date.now() - t0, `${name} failed fast`).toBeLessThan(1500)
    }

    await server.start()
    const first = await whenBack(() => backend.broker.retrieve(20))
    const rest = await backend.broker.retrieve(100)
    expect([...first, ...rest]).toEqual(reqs.map((r) => r.id)) // the AOF kept the queue, in order
    const states = await backend.orchestrator.getStates(reqs.map((r) => r.id))
    expect(states.every((s) => s?.status === 'registered')).toBe(true)
    expect((await backend.orchestrator.claim([reqs[0]!.id], 'r1'))[0]!.outcome).toBe('claimed')
    // The delayed id survived too.
    await sleep(Math.max(0, delayedAt + 3100 - Date.now()))
    expect(await backend.broker.retrieve(5)).toEqual(['delayed-1'])
    // The subscriber reconnected on its own and still wakes.
    const before = wakes
    await backend.broker.route(['after'])
    await whenBack(async () => {
      if (wakes === before) throw new Error('no wake-up yet')
    }, 3000)
    for (const c of componentsOf(backend)) await c.close()
  })

  it('a ThreadRunner finishes all 200 invocations although Redis stops mid-run', async () => {
    const appId = freshAppId('fault-run')
    const app = new Nenc({
      appId,
      backend: redisBackend({ url: server.url, connectTimeoutMs: 1000 }),
      runner: new ThreadRunner({ maxThreads: 8 }),
      env: {},
      config: {
        runner: { idleWakeMs: 200, heartbeatIntervalMs: 500 },
        orchestrator: {
          resultPollMs: 300,
          maxPendingMs: 500,
          lostQueuedAfterMs: 1000,
          atomicServiceCheckMs: 200,
        },
      },
    })
    let done = 0
    const work = app.task('work', async (i: number) => {
      // Long enough that Redis stops while most of the 200 are still to run.
      await sleep(25)
      done++
      return i * 2
    })
    await app.runner.start()
    const group = await work.parallelize(Array.from({ length: 200 }, (_, i) => [i] as [number]))
    const results = group.results()
    while (done < 40) await sleep(5)
    await server.stop()
    const doneWhileDown = done
    await sleep(800)
    await server.start()
    expect(await results).toEqual(Array.from({ length: 200 }, (_, i) => i * 2))
    expect(doneWhileDown).toBeLessThan(200)
    for (const inv of group.invocations) expect(await inv.status()).toBe('success')
    await app.purge()
    await app.close()
  }, 60_000)

  it('a caller that starts waiting while Redis is down rides the outage out; past waitOutageMs it fails typed', async () => {
    const config = (waitOutageMs: number) => ({
      runner: { idleWakeMs: 200, heartbeatIntervalMs: 500 },
      orchestrator: { resultPollMs: 200, waitOutageMs },
    })
    const patient = new Nenc({
      appId: freshAppId('fault-wait'),
      backend: redisBackend({ url: server.url, connectTimeoutMs: 500 }),
      runner: new ThreadRunner({ maxThreads: 2 }),
      env: {},
      config: config(30_000),
    })
    const impatient = new Nenc({
      appId: freshAppId('fault-wait-short'),
      backend: redisBackend({ url: server.url, connectTimeoutMs: 500 }),
      env: {},
      config: config(600),
    })
    const double = patient.task('double', async (x: number) => x * 2)
    const never = impatient.task('never', async () => 0)
    const inv = await double(21)
    const lone = await never()

    await server.stop()
    // Both waits begin while the server is down: the first subscription and reads fail.
    const patientWait = inv.result()
    const t0 = Date.now()
    const impatientErr = await lone.result().catch((e: unknown) => e)
    expect(impatientErr).toBeInstanceOf(BackendUnavailableError)
    expect(Date.now() - t0).toBeLessThan(5000)
    await sleep(500)
    await server.start()
    // Only the waiter is under test: the runner starts once the client has reconnected.
    await whenBack(() => patient.backend.orchestrator.getStates([inv.id]))
    await patient.runner.start()
    expect(await patientWait).toBe(42)
    await patient.runner.stop()
    await patient.purge()
    await patient.close()
    await impatient.purge().catch(() => {})
    await impatient.close()
  }, 60_000)

  it('Redis stops while a big batch is being routed: what was registered was queued with it, and all of it runs', async () => {
    const app = new Nenc({
      appId: freshAppId('fault-route'),
      backend: redisBackend({ url: server.url, connectTimeoutMs: 500 }),
      runner: new ThreadRunner({ maxThreads: 8 }),
      env: {},
      config: {
        task: { parallelBatchSize: 500 },
        runner: { idleWakeMs: 200, heartbeatIntervalMs: 500 },
        orchestrator: { resultPollMs: 200, lostQueuedAfterMs: 500, atomicServiceCheckMs: 200 },
      },
    })
    const noop = app.task('noop', async (i: number) => i)
    await app.ready() // components bound, so the broker can be counted while routing goes on
    const routing = noop.parallelize(Array.from({ length: 20_000 }, (_, i) => [i] as [number])).then(
      (g) => ({ ok: true as const, g }),
      (err: unknown) => ({ ok: false as const, err }),
    )
    // Stop the server once the first chunks are in (a fixed sleep could stop it before the first
    // chunk was sent on a loaded machine, and then nothing is registered to check).
    let settled = false
    void routing.then(() => (settled = true))
    while (!settled && (await app.backend.broker.count()) === 0) await sleep(5)
    await server.stop()
    const outcome = await routing
    await server.start()
    await whenBack(() => app.backend.broker.count())
    if (!outcome.ok) expect(outcome.err).toBeInstanceOf(BackendUnavailableError)
    // Whatever was registered is also queued (records, registration and queueing are one script
    // per chunk of the pipeline): a runner runs all of it, nothing is left REGISTERED unqueued.
    const orchestrator = app.backend.orchestrator
    const registered = await orchestrator.listInvocations({ statuses: ['registered'], limit: 100_000 })
    expect(registered.length).toBeGreaterThan(0)
    expect(await app.backend.broker.count()).toBe(registered.length)
    if (outcome.ok) expect(registered.length).toBe(20_000)
    await app.runner.start()
    await whenBack(async () => {
      const left = await orchestrator.listInvocations({
        statuses: ['registered', 'pending', 'running'],
        limit: 10,
      })
      if (left.length) throw new Error(`${left.length}+ not done yet`)
    }, 30_000)
    await app.runner.stop()
    await app.purge()
    await app.close()
  }, 60_000)
})
