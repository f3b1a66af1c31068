import { type InvocationStatus, type Nenc, recoverInvocations } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, useBackend } from '../harness.js'

const RECOVERY_CONFIG = {
  orchestrator: {
    maxPendingMs: 200,
    runnerDeadAfterMs: 400,
    lostQueuedAfterMs: 200,
    stuckAfterMs: 200,
    parkedRecheckMs: 200,
    atomicServiceCheckMs: 60_000,
  },
}

/** Routes an invocation without queueing it, as a caller that died half-way would leave it. */
async function registerUnqueued(
  app: Nenc,
  taskName: string,
  runningKey: string | null = null,
): Promise<string> {
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
      runningKey,
      rerouteOnConcurrencyControl: true,
    },
  ])
  return id
}

/**
 * Leaves an invocation CONCURRENCY_CONTROLLED as a runner killed between its claim and the
 * reroute would: 'dead-runner' claims it while another invocation holds its running key, then
 * that holder finishes, so the key is free again.
 */
async function strandConcurrencyControlled(app: Nenc, taskName: string): Promise<string> {
  const orch = app.backend.orchestrator
  const holder = await registerUnqueued(app, taskName, 'stuck-key')
  const id = await registerUnqueued(app, taskName, 'stuck-key')
  expect((await orch.claim([holder], 'dead-runner'))[0]?.outcome).toBe('claimed')
  expect((await orch.claim([id], 'dead-runner'))[0]?.outcome).toBe('controlled')
  for (const to of ['running', 'success'] as const) {
    expect((await orch.transition([{ id: holder, to, actor: 'dead-runner' }]))[0]?.ok).toBe(true)
  }
  return id
}

/** The statuses a killed runner strands an invocation in, and how it gets there. */
const STRANDED: { status: InvocationStatus; path: InvocationStatus[] }[] = [
  { status: 'killed', path: ['pending', 'killed'] },
  { status: 'pending_recovery', path: ['pending', 'pending_recovery'] },
  { status: 'running_recovery', path: ['pending', 'running', 'running_recovery'] },
]

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

    it('an invocation stranded in concurrency_controlled is rerouted and runs', async () => {
      const app = await makeApp({ config: RECOVERY_CONFIG })
      app.task('job', async () => 'unstuck')
      const id = await strandConcurrencyControlled(app, 'job')
      expect((await recoverInvocations(app, 'recoverer')).stuck).toEqual([]) // not old enough yet
      await new Promise((r) => setTimeout(r, 250))
      const report = await recoverInvocations(app, 'recoverer')
      expect(report.stuck).toEqual([id])
      expect((await app.backend.orchestrator.getStates([id]))[0]?.status).toBe('rerouted')
      expect(await app.backend.broker.count()).toBe(1)
      await app.runner.start()
      expect(await app.invocation(id, 'job').result()).toBe('unstuck')
      const statuses = (await app.invocation(id).history()).map((h) => h.status)
      expect(statuses).toEqual([
        'registered',
        'concurrency_controlled',
        'rerouted',
        'pending',
        'running',
        'success',
      ])
    })

    for (const { status, path } of STRANDED) {
      it(`an invocation stranded in ${status} is rerouted and runs`, async () => {
        const app = await makeApp({ config: RECOVERY_CONFIG })
        app.task('job', async () => status)
        const id = await registerUnqueued(app, 'job')
        const orch = app.backend.orchestrator
        expect((await orch.claim([id], 'dead-runner'))[0]?.outcome).toBe('claimed')
        for (const to of path.slice(1)) {
          expect((await orch.transition([{ id, to, actor: 'dead-runner' }]))[0]?.ok).toBe(true)
        }
        expect((await orch.getStates([id]))[0]?.status).toBe(status)
        await new Promise((r) => setTimeout(r, 250))
        const report = await recoverInvocations(app, 'recoverer')
        expect(report.stuck).toEqual([id])
        expect(report.pending).toEqual([])
        expect(report.running).toEqual([])
        expect((await orch.getStates([id]))[0]?.status).toBe('rerouted')
        expect(await app.backend.broker.count()).toBe(1)
        await app.runner.start()
        expect(await app.invocation(id, 'job').result()).toBe(status)
        const statuses = (await app.invocation(id).history()).map((h) => h.status)
        expect(statuses).toEqual(['registered', ...path, 'rerouted', 'pending', 'running', 'success'])
      })
    }

    it('two recovery passes racing for a stranded invocation reroute it once', async () => {
      const app = await makeApp({ config: RECOVERY_CONFIG })
      app.task('job', async () => 'once')
      const id = await strandConcurrencyControlled(app, 'job')
      await new Promise((r) => setTimeout(r, 250))
      const reports = await Promise.all([
        recoverInvocations(app, 'recoverer-1'),
        recoverInvocations(app, 'recoverer-2'),
      ])
      expect(reports.flatMap((r) => r.stuck)).toEqual([id])
      expect(await app.backend.broker.count()).toBe(1)
      await app.runner.start()
      expect(await app.invocation(id, 'job').result()).toBe('once')
    })

    it('a caller of an invocation stranded in concurrency_controlled with its key free gets the result', async () => {
      const app = await makeApp({
        config: {
          ...RECOVERY_CONFIG,
          orchestrator: { ...RECOVERY_CONFIG.orchestrator, atomicServiceCheckMs: 50 },
        },
      })
      app.task('job', async () => 'end-to-end')
      const id = await strandConcurrencyControlled(app, 'job')
      await app.runner.start() // recovery runs on its own in the runner's atomic-service slot
      expect(await app.invocation(id, 'job').result()).toBe('end-to-end')
      expect((await app.backend.orchestrator.getStates([id]))[0]?.status).toBe('success')
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
