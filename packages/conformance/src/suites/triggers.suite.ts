import {
  allOf,
  anyOf,
  deserializeArgs,
  type Nenc,
  onCron,
  onEvent,
  onException,
  onResult,
  onStatus,
  predicate,
} from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, useBackend } from '../harness.js'

const MINUTE = 60_000
/** An injected clock: a minute boundary, so atomic-service slot phases are predictable. */
const T0 = Date.UTC(2030, 0, 7, 12, 0, 0)

/** No background service passes: each test calls them with its own clock. */
const QUIET = { orchestrator: { atomicServiceCheckMs: 600_000 } }

/** The arguments of every invocation of `taskName` routed so far, oldest first. */
async function routedArgs(app: Nenc, taskName: string): Promise<unknown[][]> {
  const { orchestrator, stateBackend, clientDataStore } = app.backend
  const ids = await orchestrator.listInvocations({ taskId: `${app.appId}.${taskName}`, limit: 10_000 })
  const records = await stateBackend.getInvocations(ids)
  const out: { createdAt: number; id: string; args: unknown[] }[] = []
  for (const r of records) {
    if (!r) throw new Error(`an invocation of ${taskName} has no record`)
    out.push({
      createdAt: r.createdAt,
      id: r.id,
      args: await deserializeArgs(app.serializer, r.args, clientDataStore, app.largeValues),
    })
  }
  // Trigger runs have ids derived from their run (hashes, not time-ordered), so two routed in
  // the same millisecond are put in a stable order by their arguments.
  const key = (o: (typeof out)[number]) => JSON.stringify(o.args)
  return out
    .sort((a, b) => a.createdAt - b.createdAt || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    .map((o) => o.args)
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export function describeTriggers(name: string, factory: BackendFactory): void {
  describe(`${name}: triggers`, () => {
    const { app: makeApp, apps: makeApps } = useBackend(factory)

    it('cron fires once per scheduled time across three runners, and again after one is killed', async () => {
      const runners = await makeApps(3, {
        config: { ...QUIET, orchestrator: { ...QUIET.orchestrator, runnerDeadAfterMs: 1500 } },
      })
      for (const app of runners)
        app.task('tick', async (_scheduledAt: number) => null, {
          triggers: [onCron('* * * * *', { args: (c) => [c.scheduledAt] })],
        })
      const pass = (group: Nenc[], at: number) =>
        Promise.all(group.map((a) => a.runner.runAtomicServices(at)))
      // The first pass anchors the schedule: nothing before it fires.
      await pass(runners, T0 - 30_000)
      // Each minute, passes in all three runners' slots (20 s each with three runners).
      for (let m = 0; m < 3; m++)
        for (const offset of [1_000, 21_000, 41_000]) await pass(runners, T0 + m * MINUTE + offset)
      expect(await routedArgs(runners[0]!, 'tick')).toEqual([[T0], [T0 + MINUTE], [T0 + 2 * MINUTE]])

      // Kill one runner: it stops without cleanup (its heartbeat stays until it times out).
      const survivors = runners.slice(0, 2)
      await new Promise((r) => setTimeout(r, 2_000))
      for (let m = 3; m < 5; m++)
        for (const offset of [1_000, 21_000, 41_000]) await pass(survivors, T0 + m * MINUTE + offset)
      // Concurrent passes outside the slots (every runner evaluating at once) add nothing.
      await Promise.all(runners.map((a) => a.triggers.evaluate(T0 + 4 * MINUTE + 50_000)))
      expect(await routedArgs(runners[0]!, 'tick')).toEqual([0, 1, 2, 3, 4].map((m) => [T0 + m * MINUTE]))
    })

    it('a runner killed between recording a scheduled time and advancing the schedule loses no tick', async () => {
      const [a, b] = await makeApps(2, { config: QUIET })
      for (const app of [a!, b!])
        app.task('tick', async (_scheduledAt: number) => null, {
          triggers: [onCron('* * * * *', { args: (c) => [c.scheduledAt] })],
        })
      await a!.runner.runAtomicServices(T0 - 30_000) // anchors the schedule
      // Runner a dies right after storing the tick of T0: its compare-and-set never happens.
      const store = a!.backend.triggerStore
      const cas = store.setLastCronExecution
      store.setLastCronExecution = async () => {
        throw new Error('killed')
      }
      await expect(a!.triggers.evaluate(T0 + 1_000)).rejects.toThrow('killed')
      store.setLastCronExecution = cas
      // b (and a again) take over: T0 fires once, then the schedule goes on.
      await b!.triggers.evaluate(T0 + 21_000)
      await a!.triggers.evaluate(T0 + 41_000)
      await b!.triggers.evaluate(T0 + MINUTE + 1_000)
      expect(await routedArgs(a!, 'tick')).toEqual([[T0], [T0 + MINUTE]])
    })

    /** Makes runner a's next claim die right after it is written (nothing of the run is routed). */
    const killAfterNextClaim = (app: Nenc): (() => void) => {
      const store = app.backend.triggerStore
      const claim = store.claimTriggerRun
      store.claimTriggerRun = async (runId, ttlMs) => {
        store.claimTriggerRun = claim
        await claim.call(store, runId, ttlMs)
        throw new Error('killed')
      }
      return () => {
        store.claimTriggerRun = claim
      }
    }
    const RECOVERY = { ...QUIET, triggers: { runRecoveryAfterMs: 5_000 } }

    it('a runner killed between claiming an event run and routing it loses no run: another routes it once', async () => {
      const [a, b] = await makeApps(2, { config: RECOVERY })
      for (const app of [a!, b!])
        app.task('once', async (_id: string) => null, {
          triggers: [onEvent('go', { args: (e) => [e.eventId] })],
        })
      const now = Date.now()
      const id = await a!.emitEvent('go')
      const restore = killAfterNextClaim(a!)
      await expect(a!.triggers.evaluate(now)).rejects.toThrow('killed')
      restore()
      // b sees the run claimed and unrouted: it waits (the claimant may be routing right now)
      // and keeps the run's condition...
      const early = await b!.triggers.evaluate(now + 1_000)
      expect([early.fired, early.recovered]).toEqual([[], 0])
      expect(await routedArgs(b!, 'once')).toEqual([])
      expect(await b!.backend.triggerStore.getValidConditions()).toHaveLength(1)
      // ...then, past triggers.runRecoveryAfterMs, routes it.
      const late = await b!.triggers.evaluate(now + 6_000)
      expect([late.fired.map((f) => f.taskName), late.recovered]).toEqual([['once'], 1])
      // More passes on both runners (a restarted) add nothing.
      for (const at of [now + 7_000, now + 20_000, now + 40_000]) {
        await a!.triggers.evaluate(at)
        await b!.triggers.evaluate(at)
      }
      expect(await routedArgs(a!, 'once')).toEqual([[id]])
      expect(await b!.backend.triggerStore.getValidConditions()).toEqual([])
    })

    it('a runner killed between claiming a cron run and routing it loses no tick: it fires once', async () => {
      const [a, b] = await makeApps(2, { config: RECOVERY })
      for (const app of [a!, b!])
        app.task('tick', async (_scheduledAt: number) => null, {
          triggers: [onCron('* * * * *', { args: (c) => [c.scheduledAt] })],
        })
      await a!.triggers.evaluate(T0 - 30_000) // anchors the schedule
      const restore = killAfterNextClaim(a!)
      await expect(a!.triggers.evaluate(T0 + 1_000)).rejects.toThrow('killed')
      restore()
      await b!.triggers.evaluate(T0 + 2_000)
      expect(await routedArgs(b!, 'tick')).toEqual([])
      expect((await b!.triggers.evaluate(T0 + 21_000)).recovered).toBe(1)
      await a!.triggers.evaluate(T0 + 41_000)
      await b!.triggers.evaluate(T0 + 41_000)
      await b!.triggers.evaluate(T0 + MINUTE + 1_000)
      expect(await routedArgs(a!, 'tick')).toEqual([[T0], [T0 + MINUTE]])
    })

    for (const late of [false, true])
      it(`a frozen claimant that wakes after a recovery${late ? ', past the recovery wait, routes nothing' : ''}: one invocation`, async () => {
        // Past triggers.runRecoveryAfterMs (real clock) the claimant looks before routing.
        const config = { ...QUIET, triggers: { runRecoveryAfterMs: late ? 1_000 : 5_000 } }
        const [a, b] = await makeApps(2, { config })
        for (const app of [a!, b!])
          app.task('once', async (_id: string) => null, {
            triggers: [onEvent('go', { args: (e) => [e.eventId] })],
          })
        const store = a!.backend.triggerStore
        const claim = store.claimTriggerRun
        let claimed = false
        let wake = () => {}
        const woken = new Promise<void>((r) => {
          wake = r
        })
        // Runner a freezes right after winning the claim (its next call only: memory apps share a store).
        store.claimTriggerRun = async (runId, ttlMs) => {
          store.claimTriggerRun = claim
          const won = await claim.call(store, runId, ttlMs)
          claimed = true
          await woken
          return won
        }
        const now = Date.now()
        const id = await a!.emitEvent('go')
        const frozen = a!.triggers.evaluate(now)
        let invocation: string | undefined
        let recorded: unknown
        try {
          await until(() => claimed, 'runner a to claim the run')
          await b!.triggers.evaluate(now + 1_000)
          expect((await b!.triggers.evaluate(now + 6_000)).recovered).toBe(1)
          ;[invocation] = await b!.backend.orchestrator.listInvocations({ limit: 10 })
          ;[recorded] = await b!.backend.stateBackend.getInvocations([invocation!])
          if (late) await new Promise((r) => setTimeout(r, 1_100))
        } finally {
          wake() // a failed step must not leave runner a frozen for the next tests
        }
        const woke = await frozen
        // Routed under the id derived from the run: one invocation either way.
        expect(await routedArgs(a!, 'once')).toEqual([[id]])
        if (late) {
          expect(woke.fired).toEqual([])
          const [after] = await b!.backend.stateBackend.getInvocations([invocation!])
          expect(after).toEqual(recorded)
        } else expect(woke.fired.map((f) => f.invocationId)).toEqual([invocation])
      })

    it('a runner killed after routing a run, before clearing its conditions, routes nothing twice', async () => {
      const [a, b] = await makeApps(2, { config: RECOVERY })
      for (const app of [a!, b!])
        app.task('once', async (_id: string) => null, {
          triggers: [onEvent('go', { args: (e) => [e.eventId] })],
        })
      const store = a!.backend.triggerStore
      const clear = store.clearValidConditions
      store.clearValidConditions = async () => {
        throw new Error('killed')
      }
      const now = Date.now()
      const id = await a!.emitEvent('go')
      await expect(a!.triggers.evaluate(now)).rejects.toThrow('killed')
      store.clearValidConditions = clear
      for (const at of [now + 1_000, now + 6_000, now + 12_000]) {
        const report = await b!.triggers.evaluate(at)
        expect([report.fired, report.recovered]).toEqual([[], 0])
      }
      expect(await routedArgs(b!, 'once')).toEqual([[id]])
      expect(await b!.backend.triggerStore.getValidConditions()).toEqual([])
    })

    it('a started runner evaluates triggers by itself in its atomic-service slot', async () => {
      const app = await makeApp({ config: { orchestrator: { atomicServiceCheckMs: 50 } } })
      const seen: string[] = []
      app.task('onPing', async (id: string) => void seen.push(id), {
        triggers: [onEvent('ping', { args: (e) => [e.eventId] })],
      })
      await app.runner.start()
      const id = await app.emitEvent('ping')
      await until(() => seen.length > 0, 'the runner to run the triggered task')
      expect(seen).toEqual([id])
    })

    it('missed scheduled times are skipped by default and caught up within a window when asked', async () => {
      const app = await makeApp({ config: { ...QUIET, triggers: { cronLateToleranceMs: 30_000 } } })
      app.task('skipper', async (_t: number) => null, {
        triggers: [onCron('*/1 * * * *', { args: (c) => [c.scheduledAt] })],
      })
      app.task('filler', async (_t: number) => null, {
        triggers: [
          onCron('* * * * *', {
            missed: { catchUpWithinMs: 3 * MINUTE + 30_000 },
            args: (c) => [c.scheduledAt],
          }),
        ],
      })
      await app.triggers.evaluate(T0 - 10_000)
      // Ten minutes without any pass (no runner), then one.
      await app.triggers.evaluate(T0 + 10 * MINUTE + 5_000)
      expect(await routedArgs(app, 'skipper')).toEqual([[T0 + 10 * MINUTE]])
      // Runs of one pass are routed concurrently: compare them in scheduled order.
      const filled = (await routedArgs(app, 'filler')).map((a) => a[0] as number).sort((x, y) => x - y)
      expect(filled).toEqual([7, 8, 9, 10].map((m) => T0 + m * MINUTE))
    })

    it('20 concurrent evaluators claim a trigger run exactly once', async () => {
      const group = await makeApps(4, { config: QUIET })
      for (const app of group) {
        app.task('once', async (_id: string) => null, {
          triggers: [onEvent('go', { args: (e) => [e.eventId] })],
        })
        app.task('cronOnce', async () => null, { triggers: [onCron('0 * * * *')] })
      }
      await group[0]!.triggers.evaluate(T0 - 1_000)
      const id = await group[0]!.emitEvent('go', { n: 1 })
      const evaluators = Array.from({ length: 20 }, (_, i) => group[i % 4]!.triggers.evaluate())
      const reports = await Promise.all(evaluators)
      expect(reports.reduce((n, r) => n + r.fired.filter((f) => f.taskName === 'once').length, 0)).toBe(1)
      expect(await routedArgs(group[0]!, 'once')).toEqual([[id]])
      const cron = await Promise.all(
        Array.from({ length: 20 }, (_, i) => group[i % 4]!.triggers.evaluate(T0 + 1_000)),
      )
      expect(cron.reduce((n, r) => n + r.cronTicks, 0)).toBe(1)
      expect(await routedArgs(group[0]!, 'cronOnce')).toEqual([[]])
    })

    it('AND fires once every condition holds; OR fires once per valid condition', async () => {
      const app = await makeApp({ config: QUIET })
      app.task('both', async (_ns: number[]) => null, {
        triggers: [
          allOf(onEvent('a'), onEvent('b')).with({
            args: (all) => [all.contexts.map((c) => (c.payload as { n: number }).n)],
          }),
        ],
      })
      app.task('either', async (_code: string) => null, {
        triggers: [anyOf(onEvent('x'), onEvent('y')).with({ args: (one) => [one.code] })],
      })
      await app.emitEvent('a', { n: 1 })
      expect((await app.triggers.evaluate()).fired).toEqual([])
      await app.emitEvent('b', { n: 2 })
      await app.triggers.evaluate()
      await app.triggers.evaluate()
      expect(await routedArgs(app, 'both')).toEqual([[[1, 2]]])
      await app.emitEvent('x')
      await app.emitEvent('y')
      await app.triggers.evaluate()
      await app.triggers.evaluate()
      expect((await routedArgs(app, 'either')).map((a) => a[0]).sort()).toEqual(['x', 'y'])
      // Everything used is cleared.
      expect(await app.backend.triggerStore.getValidConditions()).toEqual([])
    })

    it('half-satisfied AND conditions expire after the retention', async () => {
      const app = await makeApp({ config: { ...QUIET, triggers: { conditionRetentionMs: 1_000 } } })
      app.task('pair', async () => null, { triggers: [allOf(onEvent('left'), onEvent('right'))] })
      await app.emitEvent('left')
      await app.triggers.evaluate()
      expect(await app.backend.triggerStore.getValidConditions()).toHaveLength(1)
      const report = await app.triggers.evaluate(Date.now() + 1_500)
      expect(report.cleared).toBe(1)
      expect(await app.backend.triggerStore.getValidConditions()).toEqual([])
      await app.emitEvent('right')
      await app.triggers.evaluate()
      expect(await routedArgs(app, 'pair')).toEqual([])
      await app.emitEvent('left')
      await app.triggers.evaluate()
      expect(await routedArgs(app, 'pair')).toEqual([[]])
    })

    it('status, result, exception and event conditions, with filters and argument providers', async () => {
      const app = await makeApp({ config: QUIET })
      class CardDeclinedError extends Error {
        override name = 'CardDeclinedError'
      }
      const seen: Record<string, unknown[]> = { big: [], failed: [], declined: [], five: [], paid: [] }
      const charge = app.task('charge', async (cents: number) => {
        if (cents < 0) throw new CardDeclinedError(`declined ${cents}`)
        if (cents === 0) throw new TypeError('zero')
        return { amountCents: cents }
      })
      app.task('onBig', async (cents: number) => void seen.big!.push(cents), {
        triggers: [
          onResult(
            charge,
            predicate('bigCharge', (r) => r.amountCents > 10_000),
            {
              args: (c) => [c.result.amountCents],
            },
          ),
        ],
      })
      app.task('onFailed', async (cents: number) => void seen.failed!.push(cents), {
        triggers: [onStatus(charge, ['failed'], { args: (c) => [c.args[0]] })],
      })
      app.task('onDeclined', async (message: string) => void seen.declined!.push(message), {
        triggers: [onException(charge, ['CardDeclinedError'], { args: (c) => [c.error.message] })],
      })
      app.task('onFive', async (id: string) => void seen.five!.push(id), {
        triggers: [
          onStatus(charge, ['success'], {
            filter: predicate('isFive', (c) => c.args[0] === 5),
            args: (c) => [c.invocationId],
          }),
        ],
      })
      app.task('onPaid', async (orderId: string) => void seen.paid!.push(orderId), {
        triggers: [
          onEvent<{ orderId: string; currency: string }, [string]>('order.paid', {
            filter: { currency: 'EUR' },
            args: (e) => [e.payload.orderId],
          }),
        ],
      })
      await app.runner.start()
      const calls = await Promise.all([charge(20_000), charge(5), charge(-1), charge(0)])
      await Promise.allSettled(calls.map((c) => c.result()))
      await app.emitEvent('order.paid', { orderId: 'o-1', currency: 'EUR' })
      await app.emitEvent('order.paid', { orderId: 'o-2', currency: 'USD' })
      const expected = {
        big: [20_000],
        failed: [-1, 0],
        declined: ['declined -1'],
        five: [calls[1]!.id],
        paid: ['o-1'],
      }
      const done = () => Object.entries(expected).every(([k, v]) => (seen[k] as unknown[]).length >= v.length)
      await until(async () => {
        await app.triggers.evaluate()
        return done()
      }, 'the triggered tasks to run')
      // One more pass fires nothing new.
      await app.triggers.evaluate()
      await new Promise((r) => setTimeout(r, 300))
      expect({ ...seen, failed: [...(seen.failed as number[])].sort((a, b) => a - b) }).toEqual(expected)
    })

    it("overlap 'skip' drops a run while an earlier invocation of the task is active", async () => {
      const app = await makeApp({ config: QUIET })
      app.task('solo', async (_n: number) => null, {
        triggers: [onEvent('tick', { overlap: 'skip', args: (e) => [(e.payload as { n: number }).n] })],
      })
      app.task('many', async (_n: number) => null, {
        triggers: [onEvent('tick', { args: (e) => [(e.payload as { n: number }).n] })],
      })
      await app.emitEvent('tick', { n: 1 })
      await app.triggers.evaluate()
      await app.emitEvent('tick', { n: 2 })
      const report = await app.triggers.evaluate()
      expect(report.skippedOverlap).toBe(1)
      expect(await routedArgs(app, 'solo')).toEqual([[1]]) // no runner: the first is still REGISTERED
      expect(await routedArgs(app, 'many')).toEqual([[1], [2]])
    })

    it("overlap 'skip' holds across the runs of one pass (a catch-up after missed times)", async () => {
      const app = await makeApp({ config: { ...QUIET, triggers: { cronLateToleranceMs: 30_000 } } })
      app.task('single', async (_t: number) => null, {
        triggers: [
          onCron('* * * * *', {
            missed: { catchUpWithinMs: 5 * MINUTE },
            overlap: 'skip',
            args: (c) => [c.scheduledAt],
          }),
        ],
      })
      await app.triggers.evaluate(T0 - 10_000)
      const report = await app.triggers.evaluate(T0 + 3 * MINUTE + 1_000)
      expect(report.cronTicks).toBe(4)
      expect(report.skippedOverlap).toBe(3)
      expect(await routedArgs(app, 'single')).toEqual([[T0]])
    })

    it('an argument provider that throws drops that run only', async () => {
      const app = await makeApp({ config: QUIET })
      app.task('fragile', async (_n: number) => null, {
        triggers: [
          onEvent('e', {
            args: (e) => {
              const n = (e.payload as { n: number }).n
              if (n < 0) throw new Error('negative')
              return [n]
            },
          }),
        ],
      })
      await app.emitEvent('e', { n: -1 })
      await app.emitEvent('e', { n: 2 })
      const report = await app.triggers.evaluate()
      expect(report.failedArgs).toBe(1)
      expect(await routedArgs(app, 'fragile')).toEqual([[2]])
    })

    it('the end of a task no condition watches makes no trigger-store call', async () => {
      const app = await makeApp({ config: QUIET })
      const plain = app.task('plain', async (n: number) => n + 1)
      app.task('watcher', async () => null, { triggers: [onEvent('unrelated')] })
      const store = app.backend.triggerStore
      let calls = 0
      const original = store.addValidConditions.bind(store)
      store.addValidConditions = async (items) => {
        calls++
        return original(items)
      }
      try {
        await app.runner.start()
        const invs = await Promise.all([plain(1), plain(2), plain(3)])
        expect(await Promise.all(invs.map((i) => i.result()))).toEqual([2, 3, 4])
        await app.runner.stop()
        expect(calls).toBe(0)
      } finally {
        store.addValidConditions = original
      }
    })

    it('emitted events are stored, listed newest first, and trimmed to the retention', async () => {
      const app = await makeApp({ config: QUIET })
      const a = await app.emitEvent('order.paid', { orderId: 'o-1' })
      const b = await app.emitEvent('order.shipped', { orderId: 'o-1' })
      const c = await app.emitEvent('order.paid', { orderId: 'o-2' })
      const store = app.backend.triggerStore
      expect((await store.listEvents()).map((e) => e.id)).toEqual([c, b, a])
      const paid = await store.listEvents({ code: 'order.paid', limit: 1 })
      expect(paid.map((e) => [e.id, e.code, app.serializer.deserialize(e.payload)])).toEqual([
        [c, 'order.paid', { orderId: 'o-2' }],
      ])
      const now = Date.now()
      await store.addEvent(
        { id: 'late', code: 'order.paid', payload: 'null', emittedAt: now + 10_000 },
        5_000,
      )
      expect((await store.listEvents()).map((e) => e.id)).toEqual(['late'])
      expect((await store.listEvents({ code: 'order.shipped' })).map((e) => e.id)).toEqual([])
    })

    it('listEventsAfter pages one code oldest first, ties by id, strictly after the cursor', async () => {
      const app = await makeApp({ config: QUIET })
      const store = app.backend.triggerStore
      const t = Date.now()
      const add = (id: string, code: string, at: number) =>
        store.addEvent({ id, code, payload: JSON.stringify(id), emittedAt: at }, 3_600_000)
      // Stored out of order, three at one time, one of another code in between.
      await add('e-c', 'ship', t + 2)
      await add('e-a', 'ship', t)
      await add('x-1', 'other', t + 1)
      await add('e-d', 'ship', t + 2)
      await add('e-b', 'ship', t + 2)
      await add('e-e', 'ship', t + 3)
      const ids = async (after: { emittedAt: number; id: string }, limit: number) =>
        (await store.listEventsAfter('ship', after, limit)).map((e) => e.id)
      expect(await ids({ emittedAt: t, id: '' }, 100)).toEqual(['e-a', 'e-b', 'e-c', 'e-d', 'e-e'])
      expect(await ids({ emittedAt: t - 1, id: 'zzz' }, 2)).toEqual(['e-a', 'e-b'])
      // Strictly after the cursor, within the tie at t + 2 and past it.
      expect(await ids({ emittedAt: t + 2, id: 'e-b' }, 2)).toEqual(['e-c', 'e-d'])
      expect(await ids({ emittedAt: t + 2, id: 'e-d' }, 100)).toEqual(['e-e'])
      expect(await ids({ emittedAt: t + 3, id: 'e-e' }, 100)).toEqual([])
      expect(await ids({ emittedAt: t, id: '' }, 0)).toEqual([])
      const [first] = await store.listEventsAfter('other', { emittedAt: t, id: '' }, 10)
      expect(first).toEqual({ id: 'x-1', code: 'other', payload: '"x-1"', emittedAt: t + 1 })
    })
  })
}
