import { describe, expect, it } from 'vitest'
import { type Backend, context, Nenc, type ProgressRecord } from '../src/index.js'
import { ProgressReporter } from '../src/orchestration/progress.js'

/** An app whose state backend records each setProgress batch (and can fail on demand). */
function setup(throttleMs: number, fail = false) {
  const writes: ProgressRecord[][] = []
  const noop = { init: async () => {}, close: async () => {} }
  const stateBackend = {
    ...noop,
    setProgress: async (items: ProgressRecord[]) => {
      writes.push(items)
      if (fail) throw new Error('down')
    },
  }
  const backend = {
    broker: noop,
    orchestrator: noop,
    stateBackend,
    clientDataStore: noop,
    triggerStore: noop,
  } as unknown as Backend
  const warns: unknown[] = []
  const nenc = new Nenc({
    appId: 'app',
    backend,
    env: {},
    config: { runner: { progressThrottleMs: throttleMs } },
  })
  ;(nenc as unknown as { logger: unknown }).logger = { warn: (o: unknown) => warns.push(o) }
  return { nenc, writes, warns }
}

describe('ProgressReporter', () => {
  it('writes the first report at once, coalesces a burst to its latest, and flush writes the last', async () => {
    const { nenc, writes } = setup(60_000)
    const r = new ProgressReporter(nenc, 'inv', 3, 'task')
    r.report(1)
    for (let i = 2; i <= 10; i++) r.report(i)
    await r.flush()
    expect(writes.map((w) => w.map((x) => [x.id, x.attempt, x.value]))).toEqual([
      [['inv', 3, '1']],
      [['inv', 3, '10']],
    ])
  })

  it('a failed write is logged, never thrown into the task', async () => {
    const { nenc, warns } = setup(0, true)
    const r = new ProgressReporter(nenc, 'inv', 1, 'task')
    r.report({ done: 1 })
    await r.flush()
    expect(warns).toHaveLength(1)
  })

  it('refuses a value it cannot store at the call, with the task named', () => {
    const { nenc, writes } = setup(0)
    const r = new ProgressReporter(nenc, 'inv', 1, 'task')
    expect(() => r.report('x'.repeat(5000))).toThrow(/the progress of task.*at most 4096/)
    expect(writes).toEqual([])
  })
})

describe('progress in dev mode', () => {
  it('a synchronous call keeps its last report', async () => {
    const { nenc } = setup(0)
    const dev = new Nenc({
      appId: 'dev',
      backend: nenc.backend,
      env: {},
      config: { devMode: { syncTasks: true } },
    })
    const t = dev.task('t', async () => {
      context().progress('half')
      context().progress('all')
      return 1
    })
    const inv = await t()
    expect((await inv.progress())?.value).toBe('all')
    const heard: unknown[] = []
    await inv.onProgress((p) => heard.push(p.value))
    expect(heard).toEqual(['all'])
  })
})
