import { Nenc, RetryError, TaskError, workflow } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, FAST_CONFIG, useBackend } from '../harness.js'

/**
 * Workflows: identity (root, inherited, sub-workflows), the `workflow()` context's data, and
 * replay of what a root records — random/now/uuid values and the children of `wf.execute` —
 * when it runs again, with non-determinism and version changes refused.
 */
export function describeWorkflows(name: string, factory: BackendFactory): void {
  describe(`${name}: workflows`, () => {
    const { app: makeApp } = useBackend(factory)

    it('a call from outside is a root, its children inherit it, forceNewWorkflow starts a sub-workflow recording its parent', async () => {
      const app = await makeApp()
      const leaf = app.task('leaf', async () => {
        const wf = workflow()
        return { id: wf.id, type: wf.type, parent: wf.parentWorkflowId, isRoot: wf.isRoot }
      })
      const sub = app.task(
        'sub',
        async () => {
          const inner = await (await leaf()).result()
          return { id: workflow().id, parent: workflow().parentWorkflowId, inner }
        },
        { forceNewWorkflow: true },
      )
      const root = app.task('root', async () => {
        const [l, s] = await Promise.all([leaf(), sub()])
        return { id: workflow().id, leaf: await l.result(), sub: await s.result(), subId: s.id }
      })
      await app.runner.start()
      const inv = await root()
      const r = await inv.result()
      expect(r.id).toBe(inv.id)
      expect(r.leaf).toEqual({ id: inv.id, type: root.id, parent: null, isRoot: false })
      expect(r.sub).toEqual({ id: r.subId, parent: inv.id, inner: expect.objectContaining({ id: r.subId }) })
      const [rootRecord, subRecord] = await app.backend.stateBackend.getInvocations([inv.id, r.subId])
      expect(rootRecord!.workflow).toEqual({ id: inv.id, type: root.id, parentWorkflowId: null })
      expect(subRecord!.workflow).toEqual({ id: r.subId, type: sub.id, parentWorkflowId: inv.id })
    })

    it('workflow data set by the root is read by its children, and theirs by the root', async () => {
      const app = await makeApp()
      const child = app.task('child', async () => {
        const wf = workflow()
        const order = await wf.getData<{ id: string }>('order')
        await wf.setData('shipped', { orderId: order?.id, at: 'dock 4' })
        return order?.id
      })
      const root = app.task('root', async () => {
        const wf = workflow()
        expect(await wf.getData('order')).toBeUndefined()
        await wf.setData('order', { id: 'o-7' })
        const seen = await wf.execute(child)
        return { seen, shipped: await wf.getData('shipped') }
      })
      await app.runner.start()
      expect(await (await root()).result()).toEqual({
        seen: 'o-7',
        shipped: { orderId: 'o-7', at: 'dock 4' },
      })
    })

    it('after a retry the root gets identical random/now/uuid values and reuses its finished children (each runs once)', async () => {
      const app = await makeApp()
      const childRuns = new Map<string, number>()
      const charge = app.task('charge', async (order: string) => {
        childRuns.set(order, (childRuns.get(order) ?? 0) + 1)
        return `charged ${order}`
      })
      const seen: unknown[][] = []
      const saga = app.task(
        'saga',
        async () => {
          const wf = workflow()
          const values = await Promise.all([wf.random(), wf.now(), wf.uuid(), wf.random()])
          const a = await wf.execute(charge, 'a')
          const b = await wf.execute(charge, 'b')
          seen.push([...values, a, b])
          if (seen.length < 3) throw new RetryError('once more')
          return values[2]
        },
        { maxRetries: 2 },
      )
      await app.runner.start()
      const inv = await saga()
      const uuid = await inv.result()
      expect(seen).toHaveLength(3)
      expect(seen[1]).toEqual(seen[0])
      expect(seen[2]).toEqual(seen[0])
      const [r1, now, id, r2] = seen[0] as [number, Date, string, number]
      expect(r1).not.toBe(r2)
      expect(now).toBeInstanceOf(Date)
      expect(uuid).toBe(id)
      expect(Object.fromEntries(childRuns)).toEqual({ a: 1, b: 1 })
    })

    it('a run again that asks for another child at a recorded position fails with NonDeterminismError naming both', async () => {
      const app = await makeApp()
      let runs = 0
      const step = app.task('step', async (n: number) => n)
      const flaky = app.task(
        'flaky',
        async () => {
          runs++
          await workflow().execute(step, runs) // a different argument on each run
          if (runs === 1) throw new RetryError('again')
          return 'unreachable'
        },
        { maxRetries: 1 },
      )
      await app.runner.start()
      const err = await (await flaky()).result().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(TaskError)
      const remote = (err as TaskError).remote
      expect(remote.name).toBe('NonDeterminismError')
      expect(remote.message).toContain('at position 0')
      expect(remote.message).toContain(`${step.id}:`)
      expect(runs).toBe(2)
    })

    it("a zombie's setData is refused once its invocation was claimed again (WorkflowContextError)", async () => {
      const app = await makeApp()
      let release!: () => void
      const gate = new Promise<void>((r) => {
        release = r
      })
      let zombieError: unknown
      let started = false
      const root = app.task('root', async () => {
        started = true
        await gate
        await workflow()
          .setData('state', 'written by a zombie')
          .catch((e: unknown) => {
            zombieError = e
          })
      })
      await app.runner.start()
      const inv = await root()
      await expectTrue(() => started)
      // Recovery presumes its runner dead and another runner claims it: attempt 2.
      const { orchestrator } = app.backend
      await orchestrator.transition([{ id: inv.id, to: 'running_recovery', actor: 'recovery' }])
      await orchestrator.transition([{ id: inv.id, to: 'rerouted', actor: 'recovery' }])
      expect((await orchestrator.claim([inv.id], 'other-runner'))[0]!.outcome).toBe('claimed')
      release()
      await expectTrue(() => zombieError !== undefined)
      expect((zombieError as Error).name).toBe('WorkflowContextError')
      expect((zombieError as Error).message).toContain('is stale')
      const wfData = await app.backend.stateBackend.getWorkflowData(inv.id, 'data:state')
      expect(wfData).toBeNull()
    })

    it('the recorded helpers belong to the root: a child asking for random() gets WorkflowContextError', async () => {
      const app = await makeApp()
      const child = app.task('child', async () => workflow().random())
      const root = app.task('root', async () => (await child()).result())
      await app.runner.start()
      const err = await (await root()).result().catch((e: unknown) => e)
      // The root rethrows the child's failure: the error that travels is the child's own.
      expect((err as TaskError).remote.name).toBe('WorkflowContextError')
      expect((err as TaskError).remote.message).toContain('recorded for the workflow root only')
    })

    it('wf.sleep frees the slot: with one slot another call runs to its end while the root sleeps', async () => {
      const app = await makeApp({ maxThreads: 1 })
      let asleep = false
      const other = app.task('other', async () => 'ran meanwhile')
      const root = app.task('root', async () => {
        const wf = workflow()
        const start = await wf.now()
        asleep = true
        await wf.sleep(400)
        return start.getTime()
      })
      await app.runner.start()
      const inv = await root()
      await expectTrue(() => asleep)
      expect(await (await other()).result()).toBe('ran meanwhile')
      expect(await inv.status()).toBe('running')
      const start = await inv.result()
      const done = (await inv.history()).find((h) => h.status === 'success')!
      expect(done.timestamp).toBeGreaterThanOrEqual(start + 400)
    })

    it('a sleep survives a runner restart: the replay sleeps until the time its first run recorded', async () => {
      const app = await makeApp()
      let runs = 0
      const starts: number[] = []
      const root = app.task('root', async () => {
        runs++
        const wf = workflow()
        const start = await wf.now()
        starts.push(start.getTime())
        await wf.sleep(600)
        return start.getTime()
      })
      await app.runner.start()
      const inv = await root()
      await expectTrue(() => runs === 1)
      await new Promise((r) => setTimeout(r, 50))
      await app.runner.stop() // the sleeping root is rerouted at once
      expect((await inv.history()).map((h) => h.status)).toContain('killed')
      await app.runner.start()
      const start = await inv.result()
      expect(runs).toBe(2)
      const success = (await inv.history()).find((h) => h.status === 'success')!
      expect(success.timestamp).toBeGreaterThanOrEqual(start + 600)
      // Both runs read the one recorded start time (the wake-up is recorded the same way).
      expect(starts).toEqual([start, start])
      expect((await inv.history()).filter((h) => h.status === 'pending')).toHaveLength(2)
    })

    it('a workflow started by one version is refused by runners of another (WorkflowVersionError)', async () => {
      const v1 = await makeApp()
      let v1Runs = 0
      v1.task(
        'order',
        async () => {
          v1Runs++
          await workflow().random()
          throw new RetryError('retried by the next deploy')
        },
        { version: 'v1', maxRetries: 1, retryBackoffMs: 300 },
      )
      await v1.runner.start()
      const inv = await v1.getTask('order')!()
      await expectStatus(() => inv.status(), 'retry')
      await v1.runner.stop()
      // The next deploy: the same app id and backend, the task's code at v2.
      const v2 = new Nenc({
        appId: v1.appId,
        backend: v1.backend,
        runner: new ThreadRunner({ maxThreads: 2 }),
        config: FAST_CONFIG,
        env: {},
      })
      let v2Runs = 0
      v2.task(
        'order',
        async () => {
          v2Runs++
          return 'v2'
        },
        { version: 'v2', maxRetries: 1 },
      )
      try {
        await v2.runner.start()
        const err = await v2
          .invocation(inv.id, 'order')
          .result()
          .catch((e: unknown) => e)
        expect((err as TaskError).remote.name).toBe('WorkflowVersionError')
        expect((err as TaskError).remote.message).toContain('"v1"')
        expect((err as TaskError).remote.message).toContain('"v2"')
        expect(v1Runs).toBe(1)
        expect(v2Runs).toBe(0)
      } finally {
        await v2.runner.stop()
        await v2.waiter.close()
      }
    })
  })
}

async function expectTrue(check: () => boolean): Promise<void> {
  const until = Date.now() + 5000
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting for the condition')
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function expectStatus(read: () => Promise<string>, status: string): Promise<void> {
  const until = Date.now() + 5000
  while ((await read()) !== status) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${status}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
