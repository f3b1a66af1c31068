import { availableParallelism } from 'node:os'
import { BackendUnavailableError, context, Nenc } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { ThreadRunner } from '../src/index.js'
import { createBackend } from './fixtures/backend.mjs'

// ThreadRunner's own behaviour, on the memory backend (loaded from its dist, as every backend here).
const memoryBackend = async () => createBackend('memory')

const apps: Nenc[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

async function appWith(runner: ThreadRunner, config: Record<string, unknown> = {}) {
  const app = new Nenc({
    appId: `tr-${apps.length}`,
    backend: await memoryBackend(),
    runner,
    config,
    env: {},
  })
  apps.push(app)
  return app
}

describe('ThreadRunner', () => {
  it('has max(minParallelSlots, minThreads, maxThreads) slots, maxThreads defaulting to the CPU count', async () => {
    expect((await appWith(new ThreadRunner())).runner.maxParallelSlots).toBe(
      Math.max(1, availableParallelism()),
    )
    expect((await appWith(new ThreadRunner({ maxThreads: 3, minThreads: 5 }))).runner.maxParallelSlots).toBe(
      5,
    )
    expect(
      (await appWith(new ThreadRunner({ maxThreads: 3, minParallelSlots: 7 }))).runner.maxParallelSlots,
    ).toBe(7)
    expect((await appWith(new ThreadRunner(), { runner: { maxThreads: 9 } })).runner.maxParallelSlots).toBe(9)
  })

  it('prefetch: claims ahead of its slots, starts them (RUNNING, its own) in a local queue, and never runs more than its slots at once', async () => {
    const runner = new ThreadRunner({ maxThreads: 3, prefetch: 5 })
    const app = await appWith(runner, { runner: { idleWakeMs: 50 } })
    let live = 0
    let peak = 0
    let release: () => void = () => {}
    let gate = new Promise<void>((r) => {
      release = r
    })
    const t = app.task('gated', async (i: number) => {
      live++
      peak = Math.max(peak, live)
      await gate
      live--
      return i * 2
    })
    await app.runner.start()
    const group = await t.parallelize(Array.from({ length: 20 }, (_, i) => [i] as [number]))
    const deadline = Date.now() + 5000
    while (runner.queuedIds.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    // 3 execute, 5 wait here started, the other 12 stay queued on the backend.
    expect(runner.runningIds).toHaveLength(3)
    expect(runner.queuedIds).toHaveLength(5)
    const states = await app.backend.orchestrator.getStates(runner.queuedIds)
    expect(states.map((st) => [st?.status, st?.owner])).toEqual(
      Array.from({ length: 5 }, () => ['running', runner.runnerId]),
    )
    expect(runner.configOverrides['runner.prefetch']).toBe(5)
    release()
    gate = Promise.resolve()
    expect(await group.results()).toEqual(Array.from({ length: 20 }, (_, i) => i * 2))
    expect(peak).toBe(3)
    expect(runner.queuedIds).toEqual([])
  })

  it('prefetch: a queued invocation takes the slot a waiting parent frees', async () => {
    const runner = new ThreadRunner({ maxThreads: 1, prefetch: 4 })
    const app = await appWith(runner, { runner: { idleWakeMs: 50 } })
    const child = app.task('child', async (i: number) => i + 1)
    const parent = app.task('parent', async (n: number) => {
      const group = await child.parallelize(Array.from({ length: n }, (_, i) => [i] as [number]))
      return (await group.results()).reduce((a, b) => a + b, 0)
    })
    await app.runner.start()
    const inv = await parent(6)
    expect(await inv.result()).toBe(21)
  })

  it('reports no child runners and is memCompatible', async () => {
    const runner = new ThreadRunner()
    await appWith(runner)
    expect(runner.getActiveChildRunnerIds()).toEqual([])
    expect(ThreadRunner.memCompatible).toBe(true)
  })

  it('starts a routed invocation on an idle runner through a pushed wake-up, not the idle safety net', async () => {
    const app = await appWith(new ThreadRunner({ maxThreads: 1 }), { runner: { idleWakeMs: 60_000 } })
    const t = app.task('t', async () => 'ok')
    await app.runner.start()
    await new Promise((r) => setTimeout(r, 50)) // the loop is idle now, waiting up to 60 s
    const inv = await t()
    expect(await inv.result()).toBe('ok')
    const h = await inv.history()
    expect(h[1]!.timestamp - h[0]!.timestamp).toBeLessThan(5_000)
  })

  it('with one slot, a parent waiting on its child lets the child run (the wait frees the slot)', async () => {
    const runner = new ThreadRunner({ maxThreads: 1 })
    const app = await appWith(runner)
    const child = app.task('child', async () => runner.busySlots)
    const parent = app.task('parent', async () => (await child()).result())
    await runner.start()
    // while the child runs, the waiting parent does not occupy a slot: only the child counts
    expect(await (await parent()).result()).toBe(1)
  })

  it('reroutes claimed invocations it could not start, and runs them later', async () => {
    const backend = await memoryBackend()
    const original = backend.stateBackend.getInvocations.bind(backend.stateBackend)
    let failures = 1
    backend.stateBackend.getInvocations = async (ids) => {
      if (failures-- > 0) throw new Error('state backend hiccup')
      return original(ids)
    }
    const app = new Nenc({
      appId: 'tr-start',
      backend,
      runner: new ThreadRunner({ maxThreads: 1 }),
      config: { runner: { idleWakeMs: 50 } },
      env: {},
    })
    apps.push(app)
    const t = app.task('t', async () => 'eventually')
    await app.runner.start()
    const inv = await t()
    expect(await inv.result()).toBe('eventually')
    expect((await inv.history()).map((h) => h.status)).toEqual([
      'registered',
      'pending',
      'rerouted',
      'pending',
      'running',
      'success',
    ])
  })

  it('a claim step whose reply is lost after it started the invocation: the runner gives it back and it runs', async () => {
    const backend = await memoryBackend()
    const original = backend.orchestrator.transition.bind(backend.orchestrator)
    let lost = 1
    backend.orchestrator.transition = async (requests) => {
      const out = await original(requests)
      // Applied on the server, reply lost on the way back: the runner never hears of the start.
      if (lost > 0 && requests.some((r) => r.to === 'running')) {
        lost--
        throw new BackendUnavailableError('memory', 'connection dropped after the write')
      }
      return out
    }
    const app = new Nenc({
      appId: 'tr-lost-reply',
      backend,
      runner: new ThreadRunner({ maxThreads: 2 }),
      config: { runner: { idleWakeMs: 50 } },
      env: {},
    })
    apps.push(app)
    const t = app.task('t', async () => 'ran')
    await app.runner.start()
    const inv = await t()
    expect(await inv.result({ timeoutMs: 5000 })).toBe('ran')
    expect((await inv.history()).map((h) => h.status)).toEqual([
      'registered',
      'pending',
      'running',
      'killed',
      'rerouted',
      'pending',
      'running',
      'success',
    ])
  })

  it('stop() kills and reroutes a waiting parent and its running child, aborting their signals', async () => {
    const runner = new ThreadRunner({ maxThreads: 2 })
    // The waiting parent is rerouted at once; the running child only after the grace period.
    const app = await appWith(runner, { runner: { stopGraceMs: 200 } })
    let childAborted = false
    const child = app.task('child', async () => {
      const { signal } = context()
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          childAborted = true
          reject(new Error('aborted'))
        }),
      )
    })
    let childId = ''
    const parent = app.task('parent', async () => {
      const inv = await child()
      childId = inv.id
      return inv.result()
    })
    await runner.start()
    const inv = await parent()
    while (!childId || (await app.invocation(childId).status()) !== 'running')
      await new Promise((r) => setTimeout(r, 5))
    await runner.stop() // resolves soon after the grace: both honour their abort signal
    expect(childAborted).toBe(true)
    for (const id of [inv.id, childId]) {
      expect((await app.invocation(id).history()).map((h) => h.status)).toEqual([
        'registered',
        'pending',
        'running',
        'killed',
        'rerouted',
      ])
    }
  })

  it('stop() does not wait forever for code that ignores its abort signal', async () => {
    const runner = new ThreadRunner({ maxThreads: 1 })
    const app = await appWith(runner, { runner: { stopGraceMs: 200 } })
    const stubborn = app.task('stubborn', () => new Promise(() => {}))
    await runner.start()
    const inv = await stubborn()
    while ((await inv.status()) !== 'running') await new Promise((r) => setTimeout(r, 5))
    await runner.stop()
    expect((await inv.history()).map((h) => h.status).slice(-2)).toEqual(['killed', 'rerouted'])
  })
})
