import { context, isValidStatusPath, Nenc } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { bindRunner, ThreadRunner } from '../src/index.js'
import { createBackend } from './fixtures/backend.mjs'
import { until as waitUntil } from './helpers.js'

/**
 * ThreadRunner.stop on memory: claiming stops, running invocations get `runner.stopGraceMs` to
 * finish on the stopping runner, and only what still runs then is killed and rerouted (waiting
 * invocations at once). Side effects are counted per invocation id.
 */
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})

async function start(stopGraceMs: number) {
  const appId = `gs-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`
  const app = new Nenc({
    appId,
    backend: await createBackend('memory'),
    config: { runner: { heartbeatIntervalMs: 200, idleWakeMs: 200, stopGraceMs } },
  })
  const runs = new Map<string, number>()
  /** Sleeps (honouring its abort signal), then counts one completed execution. */
  const effect = app.task('gsEffect', async (ms: number) => {
    const { signal, invocationId } = context()
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms)
      signal.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(signal.reason)
      })
    })
    runs.set(invocationId, (runs.get(invocationId) ?? 0) + 1)
    return ms
  })
  const parent = app.task('gsParent', async (ms: number) => {
    const child = await effect(ms)
    return child.result()
  })
  closers.push(async () => {
    await app.purge().catch(() => {})
    await app.close()
  })
  const runner = async () => {
    const r = bindRunner(app, new ThreadRunner({ maxThreads: 4 }))
    closers.push(() => r.stop())
    await r.start()
    return r
  }
  return { app, effect, parent, runs, runner }
}

// This file's waits are short: a 10 s limit, looked at every 20 ms.
const until = (what: string, check: () => Promise<boolean>) => waitUntil(what, check, 10_000, 20)

describe('ThreadRunner graceful stop (memory)', () => {
  it('a task running when stop starts finishes within stopGraceMs on the stopped runner, once', async () => {
    const t = await start(5000)
    const first = await t.runner()
    const inv = await t.effect(300)
    await until('running', async () => (await inv.status()) === 'running')
    await first.stop()
    // Finished and its outcome flushed before stop resolved.
    expect(await inv.status()).toBe('success')
    expect(t.runs.get(inv.id)).toBe(1)
    const h = await inv.history()
    const statuses = h.map((e) => e.status)
    expect(isValidStatusPath(statuses)).toEqual({ ok: true })
    expect(statuses).not.toContain('killed')
    expect(statuses.slice(-2)).toEqual(['running', 'success'])
    expect(h.at(-1)!.actor).toBe(first.runnerId)
    expect(await inv.result()).toBe(300)
  }, 20_000)

  it('a task still running after stopGraceMs is killed, rerouted and finished by another runner', async () => {
    const t = await start(100)
    const first = await t.runner()
    const inv = await t.effect(2000)
    await until('running', async () => (await inv.status()) === 'running')
    const t0 = Date.now()
    await first.stop()
    expect(Date.now() - t0).toBeLessThan(1500)
    expect(await inv.status()).toBe('rerouted')
    expect(t.runs.get(inv.id)).toBeUndefined()
    const second = await t.runner()
    expect(await inv.result()).toBe(2000)
    expect(t.runs.get(inv.id)).toBe(1)
    const h = await inv.history()
    const statuses = h.map((e) => e.status)
    expect(isValidStatusPath(statuses)).toEqual({ ok: true })
    expect(statuses.slice(-6)).toEqual(['running', 'killed', 'rerouted', 'pending', 'running', 'success'])
    expect(h.at(-5)!.actor).toBe(first.runnerId)
    expect(h.at(-1)!.actor).toBe(second.runnerId)
  }, 20_000)

  it('a task waiting for a child when stop starts is rerouted at once; the child gets the grace', async () => {
    const t = await start(5000)
    const first = await t.runner()
    const inv = await t.parent(400)
    await until('child running', async () =>
      t.app.backend.orchestrator
        .listInvocations({ statuses: ['running'], limit: 10 })
        .then((l) => l.length === 2),
    )
    await first.stop()
    expect(await inv.status()).toBe('rerouted')
    const pStatuses = (await inv.history()).map((e) => e.status)
    expect(isValidStatusPath(pStatuses)).toEqual({ ok: true })
    expect(pStatuses.slice(-3)).toEqual(['running', 'killed', 'rerouted'])
    // The child ran once, on the stopped runner, within the grace.
    expect([...t.runs.values()]).toEqual([1])
    await t.runner()
    expect(await inv.result()).toBe(400)
    // The parent's second attempt reuses the child its first attempt created: it ran once.
    expect([...t.runs.values()]).toEqual([1])
    expect(await t.app.backend.stateBackend.getChildInvocations(inv.id)).toHaveLength(1)
  }, 20_000)
})
