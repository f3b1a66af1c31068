import { type Nenc, predicate, RetryError, type TaskError, type WaitedEvent, workflow } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, useBackend } from '../harness.js'

/** Looks often, so waits end soon after their event on backends polled from another process. */
const POLL = { workflow: { eventPollMs: 50 } }

/**
 * `wf.waitForEvent`: the first matching event emitted since the wait was first reached, null on
 * timeout, the outcome recorded so a run again (retry, stop and restart) returns the same one.
 */
export function describeWorkflowEvents(name: string, factory: BackendFactory): void {
  describe(`${name}: workflow events`, () => {
    const { app: makeApp } = useBackend(factory)

    it('returns the first event passing the filter: a non-matching one emitted first is skipped', async () => {
      const app = await makeApp({ config: POLL })
      type Shipped = { orderId: string; carrier: string }
      const root = app.task('root', async () => {
        const wf = workflow()
        // Two waits at once: counted at call time, each recorded under its own name.
        const [byKeys, byPredicate] = await Promise.all([
          wf.waitForEvent<Shipped>('order.shipped', { filter: { orderId: 'o-2' }, timeoutMs: 20_000 }),
          wf.waitForEvent<Shipped>('order.shipped', {
            filter: predicate('dhl', (p: Shipped) => p.carrier === 'dhl'),
            timeoutMs: 20_000,
          }),
        ])
        return { byKeys, byPredicate }
      })
      await app.runner.start()
      const inv = await root()
      await untilRecorded(app, inv.id, 'waitForEvent:0')
      await untilRecorded(app, inv.id, 'waitForEvent:1')
      const first = await app.emitEvent('order.shipped', { orderId: 'o-1', carrier: 'ups' })
      const second = await app.emitEvent('order.shipped', { orderId: 'o-2', carrier: 'dhl' })
      await app.emitEvent('order.shipped', { orderId: 'o-2', carrier: 'dhl' }) // later: not the first
      const { byKeys, byPredicate } = await inv.result()
      expect(first).not.toBe(second)
      for (const e of [byKeys, byPredicate] as WaitedEvent<Shipped>[]) {
        expect(e.id).toBe(second)
        expect(e.code).toBe('order.shipped')
        expect(e.payload).toEqual({ orderId: 'o-2', carrier: 'dhl' })
        expect(typeof e.emittedAt).toBe('number')
      }
    })

    it('pages past more non-matching events than one read returns to the match stored after them', async () => {
      const app = await makeApp({ config: POLL })
      const inv = await waitingRoot(app, 'tick', { n: -1 })
      const store = app.backend.triggerStore
      const start = Date.now()
      const payload = (n: number) => app.serializer.serialize({ n }, 'payload')
      // Stored without app.emitEvent: nothing rings, the waiter finds them by reading the store.
      for (let i = 0; i < 120; i++)
        await store.addEvent(
          { id: `e-${1000 + i}`, code: 'tick', payload: payload(i), emittedAt: start + 100 },
          3_600_000,
        )
      await new Promise((r) => setTimeout(r, 200)) // a few looks at the 120
      // At the same time, after them by id: past the first page of every look.
      await store.addEvent(
        { id: 'e-2000', code: 'tick', payload: payload(-1), emittedAt: start + 100 },
        3_600_000,
      )
      expect(await inv.result()).toBe('e-2000')
    })

    it('finds an event stored after a later-stamped one was looked at (within the late-write tolerance)', async () => {
      const app = await makeApp({ config: POLL })
      const inv = await waitingRoot(app, 'scan', { ok: true })
      const store = app.backend.triggerStore
      const t = Date.now()
      const payload = (ok: boolean) => app.serializer.serialize({ ok }, 'payload')
      await store.addEvent(
        { id: 'newer', code: 'scan', payload: payload(false), emittedAt: t + 4_000 },
        3_600_000,
      )
      await new Promise((r) => setTimeout(r, 200)) // a few looks see 'newer'
      await store.addEvent(
        { id: 'slow-write', code: 'scan', payload: payload(true), emittedAt: t + 1 },
        3_600_000,
      )
      expect(await inv.result()).toBe('slow-write')
    })

    it('an event emitted before the wait started does not count: the wait times out with null', async () => {
      const app = await makeApp({ config: POLL })
      await app.emitEvent('paid', { orderId: 'o-1' }) // before the root exists
      // Times are in ms and the start is inclusive: one stamped in the start's ms would count.
      await new Promise((r) => setTimeout(r, 5))
      const root = app.task('root', async () => {
        const wf = workflow()
        const start = (await wf.now()).getTime()
        const event = await wf.waitForEvent('paid', { filter: { orderId: 'o-1' }, timeoutMs: 400 })
        return { start, event }
      })
      await app.runner.start()
      const inv = await root()
      await untilRecorded(app, inv.id, 'waitForEvent:0')
      await app.emitEvent('refunded', { orderId: 'o-1' }) // another code
      const { start, event } = await inv.result()
      expect(event).toBeNull()
      const success = (await inv.history()).find((h) => h.status === 'success')!
      expect(success.timestamp).toBeGreaterThanOrEqual(start + 400)
    })

    it('a retry returns the recorded event, though a later matching one arrived meanwhile', async () => {
      const app = await makeApp({ config: POLL })
      const seen: WaitedEvent<{ n: number }>[] = []
      const root = app.task(
        'root',
        async () => {
          const event = await workflow().waitForEvent<{ n: number }>('tick', { timeoutMs: 20_000 })
          seen.push(event!)
          if (seen.length === 1) {
            await app.emitEvent('tick', { n: 2 })
            throw new RetryError('run again')
          }
          return event!.payload.n
        },
        { maxRetries: 1 },
      )
      await app.runner.start()
      const inv = await root()
      await untilRecorded(app, inv.id, 'waitForEvent:0')
      const id = await app.emitEvent('tick', { n: 1 })
      expect(await inv.result()).toBe(1)
      expect(seen.map((e) => e.id)).toEqual([id, id])
      expect((await app.backend.triggerStore.listEvents({ code: 'tick' })).length).toBe(2)
    })

    it('a retry after a timeout returns null again, even for an event stored in the window later', async () => {
      const app = await makeApp({ config: POLL })
      const outcomes: unknown[] = []
      const root = app.task(
        'root',
        async () => {
          const wf = workflow()
          const before = (await wf.now()).getTime()
          const event = await wf.waitForEvent('late', { timeoutMs: 300 })
          outcomes.push(event)
          if (outcomes.length === 1) {
            // Stamped inside [start, deadline] but stored after the timeout was recorded.
            await app.backend.triggerStore.addEvent(
              {
                id: 'in-window',
                code: 'late',
                payload: app.serializer.serialize({}, 'p'),
                emittedAt: before + 299,
              },
              3_600_000,
            )
            throw new RetryError('run again')
          }
          return 'done'
        },
        { maxRetries: 1 },
      )
      await app.runner.start()
      expect(await (await root()).result()).toBe('done')
      expect(outcomes).toEqual([null, null])
    })

    it('a run again that waits for another code at a recorded wait fails with NonDeterminismError', async () => {
      const app = await makeApp({ config: POLL })
      let runs = 0
      const root = app.task(
        'root',
        async () => {
          runs++
          await workflow().waitForEvent(runs === 1 ? 'order.paid' : 'order.refunded', { timeoutMs: 20 })
          if (runs === 1) throw new RetryError('again')
          return 'unreachable'
        },
        { maxRetries: 1 },
      )
      await app.runner.start()
      const err = (await (await root()).result().catch((e: unknown) => e)) as TaskError
      expect(err.remote.name).toBe('NonDeterminismError')
      expect(err.remote.message).toContain('wf.waitForEvent("order.paid")')
      expect(err.remote.message).toContain('wf.waitForEvent("order.refunded")')
      expect(runs).toBe(2)
    })

    it('survives a stop: the event emitted while no runner runs is found by the next, the child before it runs once', async () => {
      const app = await makeApp({ config: POLL })
      let charges = 0
      let runs = 0
      const charge = app.task('charge', async (orderId: string) => {
        charges++
        return `charged ${orderId}`
      })
      const root = app.task('root', async (orderId: string) => {
        runs++
        const wf = workflow()
        const receipt = await wf.execute(charge, orderId)
        const shipped = await wf.waitForEvent<{ orderId: string; tracking: string }>('order.shipped', {
          filter: { orderId },
          timeoutMs: 60_000,
        })
        return { receipt, tracking: shipped?.payload.tracking ?? null }
      })
      await app.runner.start()
      const inv = await root('o-9')
      await untilRecorded(app, inv.id, 'waitForEvent:0')
      await app.runner.stop() // the waiting root is rerouted at once
      expect((await inv.history()).map((h) => h.status)).toContain('killed')
      await app.emitEvent('order.shipped', { orderId: 'o-9', tracking: 'T-1' })
      await app.runner.start()
      expect(await inv.result()).toEqual({ receipt: 'charged o-9', tracking: 'T-1' })
      expect(runs).toBe(2)
      expect(charges).toBe(1)
    })

    it('belongs to the root: a child calling it gets WorkflowContextError', async () => {
      const app = await makeApp({ config: POLL })
      const child = app.task('child', async () => workflow().waitForEvent('x', { timeoutMs: 10 }))
      const root = app.task('root', async () => (await child()).result())
      await app.runner.start()
      const err = (await (await root()).result().catch((e: unknown) => e)) as TaskError
      expect(err.remote.name).toBe('WorkflowContextError')
      expect(err.remote.message).toContain('wf.waitForEvent() is recorded for the workflow root only')
    })

    it('refuses bad arguments with WorkflowContextError naming the value', async () => {
      const app = await makeApp({ config: { ...POLL, triggers: { eventRetentionMs: 60_000 } } })
      const root = app.task('root', async () => {
        const wf = workflow()
        const bad: [unknown, unknown][] = [
          ['', {}],
          [42, {}],
          ['ok', 'soon'],
          ['ok', { filter: 'carrier' }],
          ['ok', { filter: [1] }],
          ['ok', { timeoutMs: -1 }],
          ['ok', { timeoutMs: Number.NaN }],
          ['ok', { timeoutMs: '10' }],
          ['ok', { timeoutMs: 60_001 }],
        ]
        const out: string[] = []
        for (const [code, options] of bad) {
          const err = await wf
            .waitForEvent(code as string, options as object)
            .then(() => null)
            .catch((e: unknown) => e as Error)
          out.push(err ? `${err.name}: ${err.message}` : 'accepted')
        }
        return out
      })
      await app.runner.start()
      const out = await (await root()).result()
      for (const line of out) expect(line).toMatch(/^WorkflowContextError: wf\.waitForEvent\(\): /)
      expect(out[0]).toContain('the event code must be a non-empty string, got ""')
      expect(out[1]).toContain('got 42')
      expect(out[2]).toContain('options must be an object { filter?, timeoutMs? }, got "soon"')
      expect(out[3]).toContain(
        'filter must be an object (equality on its keys) or a predicate of the payload, got "carrier"',
      )
      expect(out[4]).toContain('got [1]')
      expect(out[5]).toContain('timeoutMs must be a finite number ≥ 0, got -1')
      expect(out[6]).toContain('got NaN')
      expect(out[7]).toContain('got "10"')
      expect(out[8]).toContain('timeoutMs 60001 is longer than triggers.eventRetentionMs (60000)')
    })
  })
}

/** Until the root's first run recorded `name` (the wait's start): events after this count. */
/**
 * Starts the app's runner and a root that waits (up to 60 s) for an event of `code` whose payload
 * has `filter`'s keys, returning the found event's id; resolves once the wait is recorded.
 */
async function waitingRoot(app: Nenc, code: string, filter: Record<string, unknown>) {
  const root = app.task(
    'root',
    async () => (await workflow().waitForEvent(code, { filter, timeoutMs: 60_000 }))?.id,
  )
  await app.runner.start()
  const inv = await root()
  await untilRecorded(app, inv.id, 'waitForEvent:0')
  return inv
}

async function untilRecorded(app: Nenc, workflowId: string, name: string): Promise<void> {
  const until = Date.now() + 10_000
  while ((await app.backend.stateBackend.getWorkflowData(workflowId, `nenc:${name}#1`)) === null) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${name} to be recorded`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
