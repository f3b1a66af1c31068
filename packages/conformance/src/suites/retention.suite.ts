import { context, InvalidQueryError, InvocationNotFoundError, type Nenc } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { eventually } from '../assertions.js'
import { type BackendFactory, useBackend } from '../harness.js'

/** A promise a task waits on, released by the test. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((resolve) => {
    open = resolve
  })
  return { wait, open }
}

const tick = (ms = 15) => new Promise((resolve) => setTimeout(resolve, ms))

/** Every trace of `ids` a caller or an operator could read, one array per kind. */
async function traces(app: Nenc, ids: readonly string[]) {
  const { orchestrator, stateBackend } = app.backend
  return {
    states: await orchestrator.getStates(ids),
    histories: await Promise.all(ids.map((id) => orchestrator.getHistory(id))),
    records: await stateBackend.getInvocations(ids),
    outcomes: await stateBackend.getOutcomes(ids.map((id) => ({ id, attempt: 1 }))),
    progress: await stateBackend.getProgress(ids),
  }
}

/**
 * Retention of finished invocations (core's sweep, through contract methods only): what is old
 * enough goes with every trace of it, what is newer, not final, or still needed by a running
 * parent or workflow stays; runners sweep from their atomic-service slot when
 * `retention.finishedMs` is set, at most once per `retention.intervalMs`.
 */
export function describeRetention(name: string, factory: BackendFactory): void {
  describe(`${name}: retention of finished invocations`, () => {
    const { app: makeApp } = useBackend(factory)

    it('removes what finished before the cutoff with every trace; keeps newer, late-finishing and running ones', async () => {
      const app = await makeApp()
      const hold = gate()
      const late = gate()
      const work = app.task('work', async (x: number) => {
        context().progress({ x })
        return x
      })
      const fail = app.task('fail', async () => {
        context().progress('failing')
        throw new Error('boom')
      })
      const slow = app.task('slow', async (g: string) => {
        await (g === 'hold' ? hold.wait : late.wait)
        return g
      })
      await app.runner.start()
      const done = [await work(1), await work(2)]
      const failed = await fail()
      for (const inv of done) await inv.result()
      await expect(failed.result()).rejects.toThrow('boom')
      const old = [...done.map((i) => i.id), failed.id]
      const lateInv = await slow('late') // created before the cutoff, finishes after it
      const held = await slow('hold') // created before the cutoff, still running at the sweep
      await eventually(
        async () =>
          (await app.backend.orchestrator.getStates([lateInv.id, held.id])).every(
            (s) => s?.status === 'running',
          ),
        5000,
        'both slow invocations running',
      )
      const before = await traces(app, old)
      expect(before.records.every((r) => r !== null)).toBe(true)
      expect(before.outcomes.every((o) => o !== null)).toBe(true)
      expect(before.progress.every((p) => p !== null)).toBe(true)

      await tick()
      const cutoff = Date.now()
      await tick()
      late.open()
      expect(await lateInv.result()).toBe('late')
      const fresh = await work(3)
      expect(await fresh.result()).toBe(3)

      // Bad input is refused before anything is read or removed (the 3 below are still there).
      for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
        await expect(app.purgeFinished(bad)).rejects.toThrow(InvalidQueryError)
      // purgeFinished(olderThanMs, now): the cutoff is now - olderThanMs.
      expect(await app.purgeFinished(60_000, cutoff + 60_000)).toBe(3)
      const after = await traces(app, old)
      expect(after).toEqual({
        states: [null, null, null],
        histories: [[], [], []],
        records: [null, null, null],
        outcomes: [null, null, null],
        progress: [null, null, null],
      })
      for (const id of old) await expect(app.invocation(id).result()).rejects.toThrow(InvocationNotFoundError)
      const stay = await app.backend.orchestrator.getStates([lateInv.id, fresh.id, held.id])
      expect(stay.map((s) => s?.status)).toEqual(['success', 'success', 'running'])
      expect(await fresh.result()).toBe(3)
      expect(await app.purgeFinished(60_000, cutoff + 60_000)).toBe(0) // a second sweep is a no-op
      // A sweep killed between its two steps left a final state without its record: the next one removes it.
      await app.backend.stateBackend.deleteInvocations([lateInv.id])
      await tick()
      expect(await app.purgeFinished(0)).toBe(2) // lateInv and fresh, both finished by now
      expect(await app.backend.orchestrator.getStates([lateInv.id, fresh.id])).toEqual([null, null])
      hold.open()
      expect(await held.result()).toBe('hold')
    })

    it("keeps a running parent's finished children and a running workflow's finished steps until the root ends", async () => {
      const app = await makeApp()
      const hold = gate()
      const leaf = app.task('leaf', async () => 'leaf')
      const mid = app.task('mid', async () => (await (await leaf()).result()) + '+mid')
      const root = app.task('root', async () => {
        const got = await (await mid()).result()
        await hold.wait
        return got
      })
      await app.runner.start()
      const inv = await root()
      const o = app.backend.orchestrator
      let family: string[] = []
      await eventually(
        async () => {
          family = [inv.id, ...(await app.backend.stateBackend.getChildInvocations(inv.id))]
          if (family.length !== 2) return false
          family.push(...(await app.backend.stateBackend.getChildInvocations(family[1]!)))
          const statuses = (await o.getStates(family)).map((s) => s?.status)
          return statuses.join() === 'running,success,success'
        },
        5000,
        'the root running, mid and leaf finished',
      )
      await tick()
      // mid's parent (the root) runs; leaf's parent (mid) is final but its workflow's root runs.
      expect(await app.purgeFinished(0)).toBe(0)
      expect((await o.getStates(family)).every((s) => s !== null)).toBe(true)
      hold.open()
      expect(await inv.result()).toBe('leaf+mid')
      await tick()
      expect(await app.purgeFinished(0)).toBe(3)
      expect(await o.getStates(family)).toEqual([null, null, null])
    })

    it('runners sweep from the atomic-service slot only when retention.finishedMs is set, once per retention.intervalMs', async () => {
      const quiet = { atomicServiceCheckMs: 600_000 } // the test drives the slot itself
      const off = await makeApp({ config: { orchestrator: quiet } })
      const on = await makeApp({
        config: { orchestrator: quiet, retention: { finishedMs: 1_000, intervalMs: 30_000, pageSize: 2 } },
      })
      for (const app of [off, on]) {
        const t = app.task('t', async (x: number) => x)
        await app.runner.start()
        const invs = await t.parallelize([[1], [2], [3]])
        expect(await invs.results()).toEqual([1, 2, 3])
        const ids = invs.invocations.map((i) => i.id)
        const now = Date.now() + 5_000 // everything finished more than finishedMs before `now`
        await app.runner.runAtomicServices(now)
        const states = await app.backend.orchestrator.getStates(ids)
        if (app === off) {
          expect(states.every((s) => s?.status === 'success')).toBe(true)
          continue
        }
        expect(states).toEqual([null, null, null]) // several pages of 2 in one sweep
        const more = await t.parallelize([[4]])
        await more.results()
        const id = more.invocations[0]!.id
        await app.runner.runAtomicServices(now + 10_000) // within intervalMs of the last sweep
        expect((await app.backend.orchestrator.getStates([id]))[0]?.status).toBe('success')
        await app.runner.runAtomicServices(now + 30_000)
        expect(await app.backend.orchestrator.getStates([id])).toEqual([null])
      }
    })

    it('a started runner sweeps on its own atomic-service timer', async () => {
      const app = await makeApp({
        // finishedMs: long enough for results() to read the outcomes before the sweep removes them.
        config: {
          orchestrator: { atomicServiceCheckMs: 50 },
          retention: { finishedMs: 500, intervalMs: 10 },
        },
      })
      const t = app.task('t', async (x: number) => x)
      await app.runner.start()
      const group = await t.parallelize([[1], [2]])
      expect(await group.results()).toEqual([1, 2])
      await eventually(
        async () => (await app.backend.orchestrator.getStates(group.ids)).every((s) => s === null),
        5000,
        'the runner removed both finished invocations by itself',
      )
      expect(await app.backend.stateBackend.getInvocations(group.ids)).toEqual([null, null])
    })

    it('a bounded sweep goes on where the last one stopped, so finished steps kept for a running workflow never hide older ones', async () => {
      const app = await makeApp({
        config: {
          orchestrator: { atomicServiceCheckMs: 600_000 },
          retention: { finishedMs: 1_000, intervalMs: 10_000, pageSize: 2, maxPagesPerSweep: 1 },
        },
      })
      const hold = gate()
      const t = app.task('t', async (x: number) => x)
      const root = app.task('root', async () => {
        const children = await t.parallelize([[1], [2], [3]])
        await children.results()
        await hold.wait
        return 'root'
      })
      await app.runner.start()
      const older = await t.parallelize([[10], [11]]) // created first: listed after the children
      await older.results()
      await tick()
      const inv = await root()
      const o = app.backend.orchestrator
      let children: string[] = []
      await eventually(
        async () => {
          children = await app.backend.stateBackend.getChildInvocations(inv.id)
          const states = await o.getStates(children)
          return children.length === 3 && states.every((s) => s?.status === 'success')
        },
        5000,
        'the three children finished while the root waits',
      )
      const now = Date.now() + 5_000
      // Newest first, 2 per sweep: [child, child] kept; [child, older] one removed; [older] removed.
      for (const [i, gone] of [0, 1, 2].entries()) {
        await app.runner.runAtomicServices(now + i * 10_000)
        const left = (await o.getStates(older.ids)).filter((s) => s !== null)
        expect(left).toHaveLength(2 - gone)
      }
      expect((await o.getStates(children)).every((s) => s?.status === 'success')).toBe(true)
      hold.open()
      expect(await inv.result()).toBe('root')
    })
  })
}
