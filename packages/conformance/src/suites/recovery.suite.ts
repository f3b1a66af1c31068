import type { Nenc } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, useBackend } from '../harness.js'

const RECOVERY_CONFIG = {
  orchestrator: {
    maxPendingMs: 200,
    runnerDeadAfterMs: 400,
    lostQueuedAfterMs: 200,
    atomicServiceCheckMs: 60_000,
  },
}

/** Routes an invocation without queueing it, as a caller that died half-way would leave it. */
async function registerUnqueued(app: Nenc, taskName: string): Promise<string> {
  const { newInvocationId } = await import('@nenc/core')
  const id = newInvocationId()
  const taskId = `${app.appId}.${taskName}`
  await app.backend.stateBackend.upsertInvocations([
    {
      id,
      taskId,
      taskName,
      callId: `${taskId}:x`,
      args: '[]',
      parentId: null,
      workflow: { id, type: taskId, parentWorkflowId: null },
      createdAt: Date.now(),
    },
  ])
  await app.backend.orchestrator.register([
    {
      id,
      taskId,
      callId: `${taskId}:x`,
      actor: 'dead-client',
      registrationKey: null,
      runningKey: null,
      rerouteOnConcurrencyControl: false,
    },
  ])
  return id
}

export function describeRecovery(name: string, factory: BackendFactory): void {
  describe(`${name}: recovery`, () => {
    const { app: makeApp } = useBackend(factory)

    it('a PENDING invocation of a runner that never started it is rerouted and runs', async () => {
      const app = await makeApp({ config: RECOVERY_CONFIG })
      app.task('job', async () => 'recovered')
      const id = await registerUnqueued(app, 'job')
      await app.backend.orchestrator.claim([id], 'dead-runner')
      await new Promise((r) => setTimeout(r, 250))
      await app.runner.start()
      const report = await app.runner.runAtomicServices()
      expect(report?.pending).toEqual([id])
      expect(await app.invocation(id, 'job').result()).toBe('recovered')
      const statuses = (await app.invocation(id).history()).map((h) => h.status)
      expect(statuses).toEqual([
        'registered',
        'pending',
        'pending_recovery',
        'rerouted',
        'pending',
        'running',
        'success',
      ])
    })

    it('a RUNNING invocation whose owner stopped heartbeating is rerouted and runs', async () => {
      const app = await makeApp({ config: RECOVERY_CONFIG })
      app.task('job', async () => 'again')
      const id = await registerUnqueued(app, 'job')
      await app.backend.orchestrator.heartbeat(['dead-runner'], false) // not eligible: our runner owns every service slot
      await app.backend.orchestrator.claim([id], 'dead-runner')
      await app.backend.orchestrator.transition([{ id, to: 'running', actor: 'dead-runner' }])
      await app.runner.start()
      expect((await app.runner.runAtomicServices())?.running).toEqual([]) // owner still alive
      await new Promise((r) => setTimeout(r, 450))
      const report = await app.runner.runAtomicServices()
      expect(report?.running).toEqual([id])
      expect(await app.invocation(id, 'job').result()).toBe('again')
      const statuses = (await app.invocation(id).history()).map((h) => h.status)
      expect(statuses).toEqual([
        'registered',
        'pending',
        'running',
        'running_recovery',
        'rerouted',
        'pending',
        'running',
        'success',
      ])
    })

    it('an invocation lost between pop and claim is queued again once the queue is empty', async () => {
      const app = await makeApp({ config: RECOVERY_CONFIG })
      app.task('job', async () => 'found')
      const id = await registerUnqueued(app, 'job')
      await app.runner.start()
      expect((await app.runner.runAtomicServices())?.requeued).toEqual([])
      await new Promise((r) => setTimeout(r, 250))
      expect((await app.runner.runAtomicServices())?.requeued).toEqual([id])
      expect(await app.invocation(id, 'job').result()).toBe('found')
    })

    it("a live runner's running invocations are never recovered", async () => {
      const app = await makeApp({ config: RECOVERY_CONFIG })
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      const long = app.task('long', async () => {
        await gate
        return 'mine'
      })
      await app.runner.start()
      const inv = await long()
      while ((await inv.status()) !== 'running') await new Promise((r) => setTimeout(r, 10))
      await new Promise((r) => setTimeout(r, 450))
      expect((await app.runner.runAtomicServices())?.running).toEqual([])
      release()
      expect(await inv.result()).toBe('mine')
    })
  })
}
