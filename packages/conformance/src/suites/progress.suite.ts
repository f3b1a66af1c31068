import { context, type InvocationProgress, newInvocationId, SerializationError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { eventually } from '../assertions.js'
import { type BackendFactory, useBackend } from '../harness.js'

/**
 * Progress reporting: the state backend keeps the latest progress per invocation, never letting
 * a lower attempt's report replace a higher one's; a task's `context().progress(value)` reaches
 * `invocation.progress()` and `onProgress` listeners (pushed or polled), its last report always.
 */
export function describeProgress(name: string, factory: BackendFactory): void {
  describe(`${name}: progress`, () => {
    const { components, app: makeApp } = useBackend(factory)

    it('keeps the latest progress per invocation; a lower attempt never replaces a higher one', async () => {
      const { backend } = await components()
      const state = backend.stateBackend
      const a = newInvocationId()
      const b = newInvocationId()
      await state.setProgress([{ id: a, attempt: 1, updatedAt: 10, value: '"one"' }])
      await state.setProgress([{ id: a, attempt: 2, updatedAt: 20, value: '"two"' }])
      await state.setProgress([{ id: a, attempt: 1, updatedAt: 30, value: '"zombie"' }])
      await state.setProgress([
        { id: b, attempt: 1, updatedAt: 5, value: '{"done":1}' },
        { id: b, attempt: 1, updatedAt: 6, value: '{"done":2}' },
      ])
      expect(await state.getProgress([a, 'missing', b])).toEqual([
        { id: a, attempt: 2, updatedAt: 20, value: '"two"' },
        null,
        { id: b, attempt: 1, updatedAt: 6, value: '{"done":2}' },
      ])
      await state.setProgress([{ id: a, attempt: 2, updatedAt: 40, value: '"two, later"' }])
      expect((await state.getProgress([a]))[0]?.value).toBe('"two, later"')
    })

    it('a subscribed backend pushes each stored record, and nothing for a refused one', async (ctx) => {
      const { backend } = await components()
      const state = backend.stateBackend
      if (!state.subscribeProgress) {
        console.log(`[skip] ${name}: this state backend does not push progress (core polls it)`)
        ctx.skip()
        return
      }
      const heard: unknown[] = []
      const stop = await state.subscribeProgress((records) => heard.push(...records))
      const id = newInvocationId()
      await state.setProgress([{ id, attempt: 2, updatedAt: 1, value: '"live"' }])
      await state.setProgress([{ id, attempt: 1, updatedAt: 2, value: '"zombie"' }])
      await state.setProgress([{ id, attempt: 2, updatedAt: 3, value: '"live again"' }])
      const last = () => heard.at(-1) as { value?: string } | undefined
      await eventually(() => last()?.value === '"live again"', 5000, 'the pushed progress')
      // A backend may push the stored record or read it back on notice: never the zombie's.
      for (const r of heard) expect(r).toMatchObject({ id, attempt: 2 })
      await stop()
    })

    it("a task's reports reach onProgress listeners and its last report is stored before its result", async () => {
      const app = await makeApp({
        config: { runner: { progressThrottleMs: 20 }, orchestrator: { progressPollMs: 50 } },
      })
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      const work = app.task('work', async (steps: number) => {
        for (let i = 1; i <= steps; i++) {
          context().progress({ done: i, total: steps })
          if (i === 1) await gate // the listener is attached while the task runs
        }
        return 'done'
      })
      await app.runner.start()
      const inv = await work(50)
      await eventually(async () => (await inv.progress()) !== null, 5000, 'the first progress')
      expect((await inv.progress())?.value).toEqual({ done: 1, total: 50 })
      const heard: InvocationProgress[] = []
      const stop = await inv.onProgress((p) => heard.push(p))
      release()
      expect(await inv.result()).toBe('done')
      // Stored before the result: no eventually needed for the final value.
      const last = await inv.progress()
      expect(last).toMatchObject({ value: { done: 50, total: 50 }, attempt: 1 })
      await eventually(
        () => (heard.at(-1)?.value as { done?: number } | undefined)?.done === 50,
        5000,
        'the last progress at the listener',
      )
      await stop()
      // Throttled: far fewer writes than reports, in order, never going back.
      const done = heard.map((p) => (p.value as { done: number }).done)
      expect(done.length).toBeLessThan(50)
      expect([...done].sort((x, y) => x - y)).toEqual(done)
    })

    it('a value it cannot store throws a SerializationError in the task, at the call', async () => {
      const app = await makeApp()
      const bad = app.task('bad', async (kind: string) => {
        try {
          context().progress(kind === 'big' ? 'x'.repeat(10_000) : () => 1)
        } catch (err) {
          return err instanceof SerializationError ? `refused: ${err.path}` : 'other error'
        }
        return 'stored'
      })
      await app.runner.start()
      expect(await (await bad('big')).result()).toBe('refused: the progress of bad')
      expect(await (await bad('function')).result()).toBe('refused: the progress of bad')
    })
  })
}
