import { context, RetryError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { eventually } from '../assertions.js'
import { type BackendFactory, useBackend } from '../harness.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A parent that runs again reuses the children its earlier run created (same task, arguments
 * and position in its execution), so the children's side effects happen once: after a stop, a
 * kill or a recovery every child is reused; after a RETRY only those that succeeded.
 */
export function describeReplay(name: string, factory: BackendFactory): void {
  describe(`${name}: a parent that runs again reuses its children`, () => {
    const { app: makeApp } = useBackend(factory)

    it('stopped while it waits, the parent runs again and reuses its child: the child runs once', async () => {
      const app = await makeApp({ maxThreads: 4 })
      let childRuns = 0
      let parentRuns = 0
      const child = app.task('child', async (x: number) => {
        childRuns++
        await sleep(300)
        return x * 2
      })
      const parent = app.task('parent', async () => {
        parentRuns++
        const [a, b] = await Promise.all([child(1), child(2)])
        return (await a.result()) + (await b.result())
      })
      await app.runner.start()
      const inv = await parent()
      await eventually(() => childRuns === 2, 5000, 'both children started')
      await sleep(20)
      // The waiting parent is rerouted at once; the children finish within the grace period.
      await app.runner.stop()
      expect((await inv.history()).map((h) => h.status)).toContain('killed')
      await app.runner.start()
      expect(await inv.result()).toBe(6)
      expect(parentRuns).toBe(2)
      expect(childRuns).toBe(2)
      expect(await app.backend.stateBackend.getChildInvocations(inv.id)).toHaveLength(2)
    })

    it('after a RETRY the parent reuses the child that succeeded and routes a new one for the one that failed', async () => {
      const app = await makeApp({ maxThreads: 4 })
      let okRuns = 0
      let badRuns = 0
      const seen: string[][] = []
      const ok = app.task('ok', async () => {
        okRuns++
        return 1
      })
      const bad = app.task('bad', async () => {
        badRuns++
        if (badRuns === 1) throw new Error('the first one fails')
        return 2
      })
      const parent = app.task(
        'parent',
        async () => {
          const [a, b] = await Promise.all([ok(), bad()])
          seen.push([a.id, b.id])
          const ra = await a.result()
          const rb = await b.result().catch(() => {
            throw new RetryError(`child failed on retry ${context().attempt}`)
          })
          return ra + rb
        },
        { maxRetries: 1 },
      )
      await app.runner.start()
      const inv = await parent()
      expect(await inv.result()).toBe(3)
      expect(seen).toHaveLength(2)
      expect(seen[1]![0]).toBe(seen[0]![0])
      expect(seen[1]![1]).not.toBe(seen[0]![1])
      expect(okRuns).toBe(1)
      expect(badRuns).toBe(2)
      expect(await app.backend.stateBackend.getChildInvocations(inv.id)).toHaveLength(3)
    })

    it('equal calls of different parents, and of one parent at different positions, are different children', async () => {
      const app = await makeApp({ maxThreads: 4 })
      const child = app.task('child', async (x: number) => x)
      const parent = app.task('parent', async () => {
        const a = await child(1)
        const b = await child(1)
        await a.result()
        await b.result()
        return [a.id, b.id]
      })
      await app.runner.start()
      const [p, q] = await Promise.all([parent(), parent()])
      const [ids1, ids2] = [await p.result(), await q.result()]
      expect(new Set([...ids1, ...ids2]).size).toBe(4)
    })
  })
}
