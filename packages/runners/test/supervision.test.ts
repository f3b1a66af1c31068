import { isValidStatusPath } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  MultiThreadRunner,
  PersistentProcessRunner,
  ProcessRunner,
  type ProcessSupervisor,
} from '../src/index.js'
import { redisClient } from './fixtures/backend.mjs'
import { APP_MODULE, availableBackends, type Started, startApp, until } from './helpers.js'

/** Supervisors report their children alive, reroute for children that die and replace them. */
let current: Started | null = null
afterEach(async () => {
  await current?.close()
  current = null
})

const [backend] = availableBackends(['redis', 'postgres'])

describe.skipIf(!backend)(`process supervision (${backend})`, () => {
  for (const make of [
    () => new PersistentProcessRunner({ appModule: APP_MODULE, numProcesses: 1 }),
    () => new ProcessRunner({ appModule: APP_MODULE, maxProcesses: 1, warmProcesses: 1 }),
  ]) {
    it(`${make().constructor.name}: a child killed mid-run has its invocation rerouted (as the child) and run by another`, async () => {
      const runner = make()
      const s = (current = await startApp(backend!, runner, 'sup'))
      const key = `nenc-test:${s.app.appId}`
      const inv = await s.effect(key, 1500)
      let victim: { pid?: number; runnerId: string } | undefined
      await until('the invocation to run in a child', async () => {
        victim = runner.childProcesses.find((c) => c.owned.includes(inv.id))
        return victim !== undefined && (await inv.status()) === 'running'
      })
      process.kill(victim!.pid!, 'SIGKILL')
      await inv.result()
      const h = await inv.history()
      const statuses = h.map((e) => e.status)
      expect(isValidStatusPath(statuses)).toEqual({ ok: true })
      expect(statuses).toEqual([
        'registered',
        'pending',
        'running',
        'killed',
        'rerouted',
        'pending',
        'running',
        'success',
      ])
      expect(h[3]!.actor).toBe(victim!.runnerId)
      expect(h[6]!.actor).not.toBe(victim!.runnerId)
      const redis = redisClient()
      expect(await redis.hgetall(`${key}:runs`)).toEqual({ [inv.id]: '1' })
      await redis.del(`${key}:runs`, `${key}:done`)
      await redis.quit()
      // The dead child was replaced.
      await until('a replacement child', () =>
        runner.childProcesses.some((c) => c.runnerId !== victim!.runnerId),
      )
    }, 60_000)
  }

  it('reports children alive in heartbeats (not eligible for atomic services), contexts naming the parent', async () => {
    const runner = new PersistentProcessRunner({ appModule: APP_MODULE, numProcesses: 2 })
    const s = (current = await startApp(backend!, runner, 'hb'))
    await until('two children', () => runner.getActiveChildRunnerIds().length === 2)
    const childIds = runner.getActiveChildRunnerIds()
    await until('child heartbeats', async () => {
      const active = await s.app.backend.orchestrator.getActiveRunners(5000)
      return childIds.every((id) => active.some((r) => r.runnerId === id))
    })
    const active = await s.app.backend.orchestrator.getActiveRunners(5000)
    expect(active.find((r) => r.runnerId === runner.runnerId)?.canRunAtomicService).toBe(true)
    for (const id of childIds) {
      expect(active.find((r) => r.runnerId === id)?.canRunAtomicService).toBe(false)
      const ctx = await s.app.backend.stateBackend.getRunnerContext(id)
      expect(ctx).toMatchObject({ parentRunnerId: runner.runnerId, runnerClass: 'PersistentProcessWorker' })
    }
  }, 60_000)

  it('MultiThreadRunner scales up with queued work and back down when idle', async () => {
    const runner: ProcessSupervisor = new MultiThreadRunner({
      appModule: APP_MODULE,
      minProcesses: 1,
      maxProcesses: 2,
      maxThreads: 1,
      idleProcessMs: 300,
      scaleIntervalMs: 100,
    })
    const s = (current = await startApp(backend!, runner, 'mt'))
    const group = await s.sleep.parallelize(Array.from({ length: 8 }, () => [600] as [number]))
    let peak = 0
    const sampler = setInterval(() => (peak = Math.max(peak, runner.getActiveChildRunnerIds().length)), 20)
    await group.results()
    clearInterval(sampler)
    expect(peak).toBe(2)
    await until('scale down to minProcesses', () => runner.getActiveChildRunnerIds().length === 1, 15_000)
  }, 60_000)
})

if (!backend)
  console.warn('[runners tests] supervision tests skipped: no Redis/PostgreSQL backend package is built.')
