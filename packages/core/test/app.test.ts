import { describe, expect, it } from 'vitest'
import {
  type Backend,
  BaseRunner,
  type Component,
  DummyRunner,
  isInServiceWindow,
  Nenc,
  RunnerError,
  RunnerIncompatibleError,
  TaskDefinitionError,
  TaskError,
} from '../src/index.js'

/**
 * A backend whose components only answer the lifecycle: these tests check what the app does at
 * construction and in dev mode, where no component is ever called.
 */
function inertBackend(inMemory: boolean): Backend {
  const component = (): Component => ({
    backendName: 'inert',
    inMemory,
    init: async () => {},
    close: async () => {},
  })
  return {
    broker: component(),
    orchestrator: component(),
    stateBackend: component(),
    clientDataStore: component(),
    triggerStore: component(),
  } as unknown as Backend
}

class OutOfProcessRunner extends BaseRunner {
  static override readonly memCompatible = false
  get maxParallelSlots() {
    return 1
  }
  protected async iteration() {
    return false
  }
}

describe('Nenc app', () => {
  it('refuses a runner that is not memCompatible with in-memory components, naming both', () => {
    expect(
      () => new Nenc({ backend: inertBackend(true), runner: new OutOfProcessRunner(), env: {} }),
    ).toThrow(RunnerIncompatibleError)
    expect(
      () => new Nenc({ backend: inertBackend(true), runner: new OutOfProcessRunner(), env: {} }),
    ).toThrow(/OutOfProcessRunner.*in-memory broker \(inert\)/)
    expect(
      () => new Nenc({ backend: inertBackend(false), runner: new OutOfProcessRunner(), env: {} }),
    ).not.toThrow()
  })

  it('refuses a second task with an existing name', () => {
    const app = new Nenc({ backend: inertBackend(true), env: {} })
    app.task('add', async (a: number, b: number) => a + b)
    expect(() => app.task('add', async () => 0)).toThrow(TaskDefinitionError)
    expect(() => app.task('add', async () => 0)).toThrow(/already defined/)
  })

  it("refuses the 'keys' scope without a key selector", () => {
    const app = new Nenc({ backend: inertBackend(true), env: {} })
    expect(() => app.task('k', async (_x: number) => 0, { runningConcurrency: 'keys' })).toThrow(/keys/)
  })

  it('DummyRunner cannot be started and says what to do', async () => {
    const app = new Nenc({ backend: inertBackend(true), env: {} })
    expect(app.runner).toBeInstanceOf(DummyRunner)
    await expect(app.runner.start()).rejects.toThrow(RunnerError)
    await expect(app.runner.start()).rejects.toThrow(/ThreadRunner/)
  })

  it('dev mode runs calls inline with the same statuses, retries and errors', async () => {
    const app = new Nenc({ backend: inertBackend(true), devMode: { syncTasks: true }, env: {} })
    let attempts = 0
    class Flaky extends Error {}
    const flaky = app.task(
      'flaky',
      async (x: number) => {
        if (++attempts < 2) throw new Flaky('once')
        return x * 2
      },
      { maxRetries: 1, retryFor: [Flaky] },
    )
    const inv = await flaky(21)
    expect(await inv.result()).toBe(42)
    expect((await inv.history()).map((h) => h.status)).toEqual([
      'registered',
      'pending',
      'running',
      'retry',
      'pending',
      'running',
      'success',
    ])
    const bad = app.task('bad', async () => {
      throw new RangeError('nope')
    })
    await expect((await bad()).result()).rejects.toBeInstanceOf(TaskError)
    const parent = app.task('parent', async (n: number) =>
      (await flaky.parallelize([[n], [n + 1]])).results(),
    )
    expect(await (await parent(1)).result()).toEqual([2, 4])
    const direct = app.directTask('direct', async (s: string) => s.length)
    expect(await direct('four')).toBe(4)
  })

  it('env NENC__DEV_MODE__SYNC_TASKS turns dev mode on', async () => {
    const app = new Nenc({ backend: inertBackend(true), env: { NENC__DEV_MODE__SYNC_TASKS: 'true' } })
    expect(app.syncTasks).toBe(true)
  })
})

describe('atomic-service slots', () => {
  const runner = (runnerId: string, createdAt: number, canRunAtomicService = true) => ({
    runnerId,
    createdAt,
    lastHeartbeat: 0,
    canRunAtomicService,
  })

  it('a lone runner always has the slot; with three, each owns a disjoint window', () => {
    expect(isInServiceWindow('a', [runner('a', 1)], 300, 123)).toBe(true)
    const three = [runner('a', 1), runner('b', 2), runner('c', 3), runner('child', 0, false)]
    const owners = (now: number) =>
      ['a', 'b', 'c', 'child'].filter((id) => isInServiceWindow(id, three, 300, now))
    expect(owners(0)).toEqual(['a'])
    expect(owners(79)).toEqual(['a'])
    expect(owners(85)).toEqual([]) // margin between windows
    expect(owners(100)).toEqual(['b'])
    expect(owners(250)).toEqual(['c'])
    expect(owners(299)).toEqual([])
    expect(isInServiceWindow('ghost', three, 300, 0)).toBe(false)
  })
})
