import { fileURLToPath } from 'node:url'
import { onResult, TaskError } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { bindRunner, ThreadRunner } from '../src/index.js'
import { createTestApp, type TestApp } from './fixtures/tasks.mjs'

const APP_MODULE = fileURLToPath(new URL('./fixtures/app.mjs', import.meta.url))
let t: TestApp | null = null

afterEach(async () => {
  await t?.app.close()
  t = null
})

async function start(tasks: readonly string[] | 'all', size = 2): Promise<TestApp> {
  const appId = `wt-${Math.random().toString(36).slice(2, 8)}`
  process.env.NENC_TEST_APP_ID = appId
  process.env.NENC_TEST_BACKEND = 'memory'
  t = await createTestApp(appId, 'memory')
  const runner = bindRunner(
    t.app,
    new ThreadRunner({ maxThreads: 4, workerThreads: { appModule: APP_MODULE, tasks, size } }),
  )
  await runner.start()
  // The test app's own runner is the DummyRunner; stop ours with the app.
  const close = t.app.close.bind(t.app)
  t.app.close = async () => {
    await runner.stop()
    await close()
  }
  return t
}

describe('ThreadRunner workerThreads', () => {
  it('runs offloaded CPU-bound functions in worker threads in parallel, results on the main thread', async () => {
    const { burnOnce, add } = await start(['burnOnce'])
    const t0 = Date.now()
    const group = await burnOnce.parallelize([[300], [300]])
    const ticks: number[] = []
    // The main event loop stays free while both functions burn CPU in their threads.
    const timer = setInterval(() => ticks.push(Date.now()), 20)
    const [a, b] = await group.results()
    clearInterval(timer)
    expect([a, b]).toEqual([300, 300])
    expect(Date.now() - t0).toBeLessThan(1500)
    expect(ticks.length).toBeGreaterThan(5)
    // Tasks not listed still run on the main thread.
    expect(await (await add(2, 3)).result()).toBe(5)
  })

  it('terminates a worker whose task exceeds timeoutMs; the retry policy then applies', async () => {
    const { burn } = await start(['burn'], 1)
    const inv = await burn(5000)
    const err = await inv.result().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskError)
    expect((err as TaskError).remote.name).toBe('TaskTimeoutError')
    const statuses = (await inv.history()).map((h) => h.status)
    expect(statuses).toEqual(['registered', 'pending', 'running', 'retry', 'pending', 'running', 'failed'])
  })

  it('rebuilds errors thrown in a worker, and RetryError still retries', async () => {
    const { fail, flaky } = await start('all')
    const err = await (await fail('boom')).result().catch((e: unknown) => e)
    expect((err as TaskError).remote).toMatchObject({ name: 'TypeError', message: 'boom' })
    // context() is not available in a worker thread, so flaky's attempt check throws there.
    const f = await flaky(7)
    await expect(f.result()).rejects.toBeInstanceOf(TaskError)
  })

  it('matches trigger conditions of an offloaded task on the main thread, where its end is written', async () => {
    const { app, add } = await start(['add'])
    const seen: number[] = []
    app.task('afterAdd', async (sum: number) => void seen.push(sum), {
      triggers: [onResult(add, undefined, { args: (c) => [c.result as number] })],
    })
    expect(await (await add(2, 3)).result()).toBe(5)
    const report = await app.triggers.evaluate()
    expect(report.fired.map((f) => f.taskName)).toEqual(['afterAdd'])
    await app.invocation(report.fired[0]!.invocationId).result()
    expect(seen).toEqual([5])
  })
})
