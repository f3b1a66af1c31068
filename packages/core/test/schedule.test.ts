import { describe, expect, it } from 'vitest'
import {
  type Backend,
  CancelRefusedError,
  type Component,
  InvalidScheduleError,
  Nenc,
  type ScheduleOptions,
} from '../src/index.js'

/** Components that only answer the lifecycle: schedule() validation and dev mode call none. */
function inertBackend(): Backend {
  const component = (): Component => ({
    backendName: 'inert',
    inMemory: true,
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

describe('task.schedule()', () => {
  const app = new Nenc({ appId: 'sched', backend: inertBackend(), env: {} })
  const t = app.task('remind', async (who: string) => `hi ${who}`)

  it.each([
    [{}, 'exactly one of delayMs and runAt'],
    [{ delayMs: 1, runAt: 2 }, 'exactly one of delayMs and runAt'],
    [{ delayMs: -5 }, 'delayMs must be a finite number ≥ 0, got -5'],
    [{ delayMs: Number.NaN }, 'delayMs must be a finite number ≥ 0, got NaN'],
    [{ runAt: new Date('not a date') }, 'runAt must be a valid Date or ms since epoch'],
    [{ runAt: '2030-01-01' }, 'runAt must be a valid Date or ms since epoch'],
    [null, 'expected { delayMs } or { runAt }'],
  ])('refuses %j at once with InvalidScheduleError naming the task', (when, message) => {
    let err: unknown
    try {
      t.schedule(when as unknown as ScheduleOptions)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidScheduleError)
    expect((err as Error).message).toContain('remind.schedule()')
    expect((err as Error).message).toContain(message)
  })

  it('in dev mode runs inline at call time; cancel is then refused (it already ran)', async () => {
    const dev = new Nenc({
      appId: 'sched-dev',
      backend: inertBackend(),
      devMode: { syncTasks: true },
      env: {},
    })
    const greet = dev.task('greet', async (who: string) => `hi ${who}`)
    const inv = await greet.schedule({ delayMs: 60_000 })('ana')
    expect(await inv.result()).toBe('hi ana')
    await expect(inv.cancel()).rejects.toBeInstanceOf(CancelRefusedError)
    await expect(inv.cancel()).rejects.toMatchObject({ status: 'success' })
  })
})

describe('workflow() in dev mode', () => {
  it('replays recorded values across a dev-mode retry and refuses a call outside a task', async () => {
    const { RetryError, workflow, WorkflowContextError } = await import('../src/index.js')
    const dev = new Nenc({ appId: 'wf-dev', backend: inertBackend(), devMode: { syncTasks: true }, env: {} })
    const seen: string[] = []
    const t = dev.task(
      'saga',
      async () => {
        seen.push(await workflow().uuid())
        if (seen.length === 1) throw new RetryError('again')
        return seen
      },
      { maxRetries: 1 },
    )
    const inv = await t()
    expect(await inv.result()).toHaveLength(2)
    expect(seen[1]).toBe(seen[0])
    expect(() => workflow()).toThrow(WorkflowContextError)
  })

  it('wf.sleep waits and refuses a bad duration with WorkflowContextError', async () => {
    const { workflow, WorkflowContextError } = await import('../src/index.js')
    const dev = new Nenc({
      appId: 'wf-sleep',
      backend: inertBackend(),
      devMode: { syncTasks: true },
      env: {},
    })
    const t = dev.task('nap', async (ms: number) => {
      const before = Date.now()
      await workflow().sleep(ms)
      return Date.now() - before
    })
    expect(await (await t(30)).result()).toBeGreaterThanOrEqual(29)
    const err = await (await t(-1)).result().catch((e: unknown) => e)
    expect((err as { remote: { name: string; message: string } }).remote.name).toBe(WorkflowContextError.name)
    expect((err as { remote: { message: string } }).remote.message).toContain(
      'ms must be a finite number ≥ 0, got -1',
    )
  })
})
