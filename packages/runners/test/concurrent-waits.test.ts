import { context, Nenc, RetryError } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { bindRunner, ThreadRunner } from '../src/index.js'
import { createBackend } from './fixtures/backend.mjs'
import { availableBackends } from './helpers.js'

/**
 * A task awaiting several invocations at once (Promise.all, nested waits, a group's iteration)
 * has overlapping waits: its slot stays free until the last of them ends. With one slot and no
 * blocking control, a slot counted busy after the first wait ended deadlocked the runner.
 */
let stop: (() => Promise<void>) | null = null
afterEach(async () => {
  await stop?.()
  stop = null
})

async function start(backend: string) {
  const appId = `cw-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`
  const app = new Nenc({
    appId,
    backend: await createBackend(backend),
    config: {
      runner: { heartbeatIntervalMs: 200, idleWakeMs: 200 },
      orchestrator: { blockingControl: false, resultPollMs: 100 },
    },
  })
  const flaky = app.task(
    'cwFlaky',
    async (v: number) => {
      if (context().attempt === 0) throw new RetryError('first attempt fails')
      return v
    },
    { maxRetries: 2, retryBackoffMs: 200 },
  )
  const fast = app.task('cwFast', async (v: number) => v)
  const both = app.task('cwBoth', async (a: number, b: number) => {
    const x = await flaky(a)
    const y = await fast(b)
    const [ra, rb] = await Promise.all([x.result(), y.result()])
    return ra + rb
  })
  const nested = app.task('cwNested', async (a: number) => {
    const inner = await both(a, a)
    const other = await flaky(a)
    const [r1, r2] = await Promise.all([inner.result(), other.result()])
    return r1 + r2
  })
  const grouped = app.task('cwGrouped', async (n: number) => {
    const group = await flaky.parallelize(Array.from({ length: n }, (_, i) => [i]))
    const extra = await fast(100)
    let sum = 0
    const extraResult = extra.result()
    for await (const r of group) sum += r as number
    return sum + (await extraResult)
  })
  const runner = bindRunner(app, new ThreadRunner({ maxThreads: 1 }))
  await runner.start()
  stop = async () => {
    await runner.stop()
    await app.purge().catch(() => {})
    await app.close()
  }
  return { app, both, nested, grouped }
}

const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not finished in ${ms} ms`)), ms)),
  ])

for (const backend of availableBackends(['memory', 'redis', 'postgres'])) {
  describe(`concurrent waits on one slot (${backend}, ThreadRunner maxThreads 1)`, () => {
    it('Promise.all over a flaky child and a fast child finishes', async () => {
      const { both } = await start(backend)
      const inv = await both(1, 2)
      expect(await within(inv.result(), 8000)).toBe(3)
    }, 20_000)

    it('nested concurrent waits finish', async () => {
      const { nested } = await start(backend)
      const inv = await nested(2)
      expect(await within(inv.result(), 10_000)).toBe(6)
    }, 20_000)

    it('for await over a group while another result is awaited finishes', async () => {
      const { grouped } = await start(backend)
      const inv = await grouped(3)
      expect(await within(inv.result(), 10_000)).toBe(103)
    }, 20_000)
  })
}
