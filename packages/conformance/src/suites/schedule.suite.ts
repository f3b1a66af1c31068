import {
  CancelRefusedError,
  type Invocation,
  InvocationCanceledError,
  InvocationNotFoundError,
  newInvocationId,
  recoverInvocations,
} from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { eventually } from '../assertions.js'
import { type BackendFactory, newRequests, recordFor, useBackend } from '../harness.js'

/** When the invocation entered PENDING for the first time (its first claim). */
async function firstClaimAt(inv: Invocation<unknown>): Promise<number> {
  const entry = (await inv.history()).find((h) => h.status === 'pending')
  if (!entry) throw new Error(`invocation ${inv.id} was never claimed`)
  return entry.timestamp
}

/**
 * Scheduled calls (`task.schedule`) and `invocation.cancel()`. "Not before" is asserted on
 * stored state — the status while others ran, the first claim's timestamp against the record's
 * `runAt` — never on how long something took.
 */
export function describeSchedule(name: string, factory: BackendFactory): void {
  describe(`${name}: scheduled calls and cancel`, () => {
    const { app: makeApp } = useBackend(factory)

    it('a scheduled call stays REGISTERED while other work runs, and is first claimed at its runAt or later', async () => {
      const app = await makeApp()
      let runs = 0
      const later = app.task('later', async (x: number) => {
        runs++
        return x + 1
      })
      const now = app.task('now', async () => 'done')
      await app.runner.start()
      const inv = await later.schedule({ delayMs: 700 })(1)
      const [record] = await app.backend.stateBackend.getInvocations([inv.id])
      expect(record!.runAt).toBeGreaterThan(Date.now())
      // The runner is busy with the queue meanwhile: an immediate call runs to its end first.
      expect(await (await now()).result()).toBe('done')
      expect(await inv.status()).toBe('registered')
      expect(runs).toBe(0)
      expect(await inv.result()).toBe(2)
      expect(runs).toBe(1)
      expect(await firstClaimAt(inv)).toBeGreaterThanOrEqual(record!.runAt!)
    })

    it('runAt takes a Date; a time already past runs at once', async () => {
      const app = await makeApp()
      const t = app.task('t', async (s: string) => s.toUpperCase())
      await app.runner.start()
      const at = new Date(Date.now() + 300)
      const inv = await t.schedule({ runAt: at })('a')
      const past = await t.schedule({ runAt: Date.now() - 60_000 })('b')
      expect(await past.result()).toBe('B')
      expect(await inv.result()).toBe('A')
      expect(await firstClaimAt(inv)).toBeGreaterThanOrEqual(at.getTime())
    })

    it('a task awaiting a scheduled child does not make blocking control start it early', async () => {
      const app = await makeApp()
      const child = app.task('child', async () => 'child done')
      const parent = app.task('parent', async () => {
        const c = await child.schedule({ delayMs: 500 })()
        return [c.id, await c.result()] as const
      })
      await app.runner.start()
      const [childId, value] = await (await parent()).result()
      expect(value).toBe('child done')
      const [record] = await app.backend.stateBackend.getInvocations([childId])
      expect(await firstClaimAt(app.invocation(childId))).toBeGreaterThanOrEqual(record!.runAt!)
    })

    it('recovery does not queue a scheduled call that is not due, however long it was registered', async () => {
      const app = await makeApp({ config: { orchestrator: { lostQueuedAfterMs: 100 } } })
      const t = app.task('t', async () => 1)
      const inv = await t.schedule({ delayMs: 60_000 })()
      await new Promise((r) => setTimeout(r, 150))
      const report = await recoverInvocations(app, 'recovery-test')
      expect(report.requeued).not.toContain(inv.id)
      expect(await inv.status()).toBe('registered')
      await inv.cancel()
    })

    it('cancel before its time: CANCELED, result() rejects, and it never runs', async () => {
      const app = await makeApp()
      let runs = 0
      const t = app.task('t', async () => {
        runs++
      })
      await app.runner.start()
      const inv = await t.schedule({ delayMs: 300 })()
      const witness = await t.schedule({ delayMs: 400 })()
      await inv.cancel()
      expect(await inv.status()).toBe('canceled')
      await expect(inv.result()).rejects.toBeInstanceOf(InvocationCanceledError)
      // The witness was due after the canceled one: once it ran, the canceled one's time had passed.
      await witness.result()
      expect(runs).toBe(1)
      expect((await inv.history()).map((h) => h.status)).toEqual(['registered', 'canceled'])
    })

    it('a canceled id still in the queue is dropped when claimed: nothing runs and the queue empties', async () => {
      const app = await makeApp()
      let runs = 0
      const t = app.task('t', async (n: number) => {
        runs += n
        return n
      })
      const group = await t.parallelize([[1], [10], [100]])
      const [a, b] = group.invocations
      await Promise.all([a!.cancel(), b!.cancel()])
      await app.runner.start()
      expect(await group.invocations[2]!.result()).toBe(100)
      await eventually(async () => (await app.backend.broker.count()) === 0, 5000, 'the queue to empty')
      expect(runs).toBe(100)
      for (const inv of [a!, b!]) expect(await inv.status()).toBe('canceled')
    })

    it('cancel once running is refused with CancelRefusedError and the run finishes; after the end too', async () => {
      const app = await makeApp()
      let release!: () => void
      const gate = new Promise<void>((r) => {
        release = r
      })
      const t = app.task('t', async () => {
        await gate
        return 'finished'
      })
      await app.runner.start()
      const inv = await t()
      await eventually(async () => (await inv.status()) === 'running', 5000, 'the invocation to run')
      const err = await inv.cancel().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CancelRefusedError)
      expect((err as CancelRefusedError).status).toBe('running')
      release()
      expect(await inv.result()).toBe('finished')
      await expect(inv.cancel()).rejects.toMatchObject({ code: 'NOT_CANCELABLE', status: 'success' })
    })

    it('cancel is idempotent, and an unknown id is InvocationNotFoundError', async () => {
      const app = await makeApp()
      const t = app.task('t', async () => 1)
      const inv = await t.schedule({ delayMs: 60_000 })()
      await inv.cancel()
      await inv.cancel()
      expect((await inv.history()).map((h) => h.status)).toEqual(['registered', 'canceled'])
      await expect(app.invocation(newInvocationId()).cancel()).rejects.toBeInstanceOf(InvocationNotFoundError)
    })

    it('cancel of a PENDING claim wins over the claimer: its fenced start is refused', async () => {
      const app = await makeApp()
      const { stateBackend, orchestrator } = app.backend
      const [req] = newRequests(1)
      await stateBackend.upsertInvocations([recordFor(req!)])
      await orchestrator.register([req!])
      const [claim] = await orchestrator.claim([req!.id], 'runner-1')
      expect(claim!.outcome).toBe('claimed')
      const attempt = claim!.outcome === 'claimed' ? claim!.state.attempt : -1
      await app.invocation(req!.id).cancel()
      const [start] = await orchestrator.transition([
        { id: req!.id, to: 'running', actor: 'runner-1', attempt },
      ])
      expect(start).toMatchObject({ ok: false, reason: 'invalid_transition' })
      expect((await orchestrator.getStates([req!.id]))[0]!.status).toBe('canceled')
    })

    it('cancel of a PENDING claim holding a running key hands the key to the invocation parked on it', async () => {
      const app = await makeApp()
      const { stateBackend, orchestrator } = app.backend
      const [holder, parked] = newRequests(2, { runningKey: 'k', rerouteOnConcurrencyControl: true })
      await stateBackend.upsertInvocations([recordFor(holder!), recordFor(parked!)])
      await orchestrator.register([holder!, parked!])
      expect((await orchestrator.claim([holder!.id], 'runner-1'))[0]!.outcome).toBe('claimed')
      expect((await orchestrator.claim([parked!.id], 'runner-1'))[0]!.outcome).toBe('controlled')
      await app.invocation(holder!.id).cancel()
      const [h, p] = await orchestrator.getStates([holder!.id, parked!.id])
      expect(h!.status).toBe('canceled')
      expect(p!.status).toBe('rerouted')
      expect(await orchestrator.claim([parked!.id], 'runner-2')).toMatchObject([{ outcome: 'claimed' }])
    })

    it('20 concurrent cancels of one invocation write one CANCELED entry', async () => {
      const app = await makeApp()
      const t = app.task('t', async () => 1)
      const inv = await t.schedule({ delayMs: 60_000 })()
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => inv.cancel()))
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
      expect((await inv.history()).filter((h) => h.status === 'canceled')).toHaveLength(1)
    })
  })
}
