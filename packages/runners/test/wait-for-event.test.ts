import type { ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { redisClient } from './fixtures/backend.mjs'
import type { TestApp } from './fixtures/tasks.mjs'
import { availableBackends, forkRunner, newTestApp, until } from './helpers.js'

/**
 * `wf.waitForEvent` across real runner processes: the runner holding a waiting workflow is
 * SIGKILLed (recovery reroutes it) or SIGTERMed (it reroutes it itself), the event is emitted by
 * this process, and another runner process finishes the workflow with the event's payload.
 * Side effects are counted in Redis per invocation id.
 */
const procs: ChildProcess[] = []
let cleanup: (() => Promise<void>) | null = null

afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
  await cleanup?.()
  cleanup = null
})

async function appWithCleanup(backend: string, prefix: string): Promise<{ t: TestApp; key: string }> {
  const t = await newTestApp(backend, prefix)
  const key = `nenc-test:${t.app.appId}`
  cleanup = async () => {
    const redis = redisClient()
    await redis.del(`${key}:runs`, `${key}:done`, `${key}:waits`).finally(() => redis.quit())
    await t.app.purge().catch(() => {})
    await t.app.close()
  }
  return { t, key }
}

const backends = availableBackends(['redis', 'postgres'])
const hasRedis = backends.includes('redis')

describe.skipIf(!hasRedis)('wf.waitForEvent across runner processes', () => {
  for (const backend of backends) {
    it(`${backend}: kill -9 while waiting; the event emitted while no runner runs; the next runner finishes with it, its child once`, async () => {
      const { t, key } = await appWithCleanup(backend, 'wfe9')
      const inv = await t.shipmentWorkflow(key, 'o-1')
      const victim = forkRunner(procs, 'ThreadRunner', { maxThreads: 4 })
      await victim.running
      // Waiting once its start is recorded: events emitted from then on count.
      await until(
        'the wait recorded its start',
        async () =>
          (await t.app.backend.stateBackend.getWorkflowData(inv.id, 'nenc:waitForEvent:0#1')) !== null,
      )
      victim.proc.kill('SIGKILL')
      await victim.exited
      await t.app.emitEvent('order.shipped', { orderId: 'o-2', tracking: 'not ours' })
      const shipped = await t.app.emitEvent('order.shipped', { orderId: 'o-1', tracking: 'T-1' })
      const rescuer = forkRunner(procs, 'ThreadRunner', { maxThreads: 4 })
      await rescuer.running
      const result = await inv.result()
      expect(result.shipped).toEqual({ id: shipped, payload: { orderId: 'o-1', tracking: 'T-1' } })
      expect((await inv.history()).map((h) => h.status)).toContain('running_recovery')
      const redis = redisClient()
      try {
        // Two runs reached the wait; the child before it ran once, its result reused.
        expect(await redis.lrange(`${key}:waits`, 0, -1)).toEqual([inv.id, inv.id])
        expect(await redis.hgetall(`${key}:runs`)).toEqual({ [result.charged]: '1' })
      } finally {
        await redis.quit()
      }
    }, 60_000)

    it(`${backend}: SIGTERM while waiting reroutes at once; another runner process waits on and sees the event by polling`, async () => {
      const { t, key } = await appWithCleanup(backend, 'wfet')
      const inv = await t.shipmentWorkflow(key, 'o-7')
      const first = forkRunner(procs, 'ThreadRunner', { maxThreads: 4 })
      await first.running
      const redis = redisClient()
      try {
        await until('the first run waits', async () => (await redis.llen(`${key}:waits`)) === 1)
        first.proc.kill('SIGTERM')
        expect(await first.exited).toBe(0)
        expect((await inv.history()).map((h) => h.status)).toContain('killed')
        const second = forkRunner(procs, 'ThreadRunner', { maxThreads: 4 })
        await second.running
        await until('the replay waits again', async () => (await redis.llen(`${key}:waits`)) === 2)
        // Emitted by this process: the runner process learns of it by reading the store.
        const shipped = await t.app.emitEvent('order.shipped', { orderId: 'o-7', tracking: 'T-7' })
        const result = await inv.result()
        expect(result.shipped).toEqual({ id: shipped, payload: { orderId: 'o-7', tracking: 'T-7' } })
        expect(await redis.hgetall(`${key}:runs`)).toEqual({ [result.charged]: '1' })
      } finally {
        await redis.quit()
      }
    }, 60_000)
  }
})
