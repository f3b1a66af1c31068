import { type Backend, stepsOf } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, newRequests, recordFor, useBackend } from '../harness.js'

/** Routes `n` invocations through the route step (records, registration, queue). */
async function routeNew(backend: Backend, n: number) {
  const reqs = newRequests(n)
  await stepsOf(backend).route(reqs.map(recordFor), reqs)
  return reqs
}

/**
 * An invocation whose first runner ('zombie', attempt 1) was presumed dead: recovered, claimed
 * again and RUNNING under 'winner', attempt 2.
 */
async function zombieAndWinner(backend: Backend) {
  const [req] = await routeNew(backend, 1)
  const id = req!.id
  const orch = backend.orchestrator
  const steps = stepsOf(backend)
  await steps.claimQueued('zombie', 1)
  await orch.transition([{ id, to: 'running', actor: 'zombie', attempt: 1 }])
  await orch.transition([{ id, to: 'running_recovery', actor: 'recoverer' }])
  await orch.transition([{ id, to: 'rerouted', actor: 'recoverer' }])
  await steps.claimIds('winner', [id])
  await orch.transition([{ id, to: 'running', actor: 'winner', attempt: 2 }])
  return { id, orch, steps }
}

/**
 * Attempts and fencing (docs/concepts/attempts-and-fencing.md): each claim starts a new attempt,
 * every runner write names its attempt, and a runner presumed dead whose invocation was claimed
 * again can neither change its status nor its readable outcome. Runs through `stepsOf`, so a
 * factory with fused steps is checked through them and a composed backend through the five
 * components.
 */
export function describeFencing(name: string, factory: BackendFactory): void {
  describe(`${name}: attempts and fencing`, () => {
    const { components } = useBackend(factory)

    it('each claim starts the next attempt; the history carries it', async () => {
      const { backend } = await components()
      const [req] = await routeNew(backend, 1)
      const id = req!.id
      const steps = stepsOf(backend)
      const first = await steps.claimQueued('r1', 10)
      expect(first.claimed.map((c) => [c.state.id, c.state.attempt])).toEqual([[id, 1]])
      await backend.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
      const fin = await steps.finish('r1', [{ id, attempt: 1, to: 'retry', delayMs: 0 }], 0)
      expect(fin.outcomes[0]).toMatchObject({ ok: true, state: { status: 'retry', attempt: 1, retries: 1 } })
      const again = await steps.claimQueued('r2', 10)
      expect(again.claimed.map((c) => c.state.attempt)).toEqual([2])
      const history = await backend.orchestrator.getHistory(id)
      expect(history.map((h) => [h.status, h.attempt])).toEqual([
        ['registered', 0],
        ['pending', 1],
        ['running', 1],
        ['retry', 1],
        ['pending', 2],
      ])
    })

    it('a transition naming a stale attempt is refused as stale and writes nothing', async () => {
      const { backend } = await components()
      const [req] = newRequests(1)
      const id = req!.id
      const orch = backend.orchestrator
      await orch.register([req!])
      await orch.claim([id], 'r1')
      await orch.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
      // r1 is presumed dead: recovery reroutes, r2 claims attempt 2 and runs it.
      await orch.transition([{ id, to: 'running_recovery', actor: 'recoverer' }])
      await orch.transition([{ id, to: 'rerouted', actor: 'recoverer' }])
      const [claim] = await orch.claim([id], 'r2')
      expect(claim).toMatchObject({ outcome: 'claimed', state: { attempt: 2, owner: 'r2' } })
      await orch.transition([{ id, to: 'running', actor: 'r2', attempt: 2 }])
      const before = await orch.getHistory(id)
      // Even naming the new owner, a write for attempt 1 is stale.
      const [out] = await orch.transition([{ id, to: 'success', actor: 'r2', attempt: 1 }])
      expect(out).toMatchObject({
        ok: false,
        reason: 'stale',
        attempt: 1,
        current: { status: 'running', owner: 'r2', attempt: 2 },
      })
      expect(await orch.getHistory(id)).toEqual(before)
      expect((await orch.getStates([id]))[0]).toMatchObject({ status: 'running', owner: 'r2', attempt: 2 })
    })

    it('a zombie finish after the new attempt finished leaves outcome, status and history unchanged', async () => {
      const { backend } = await components()
      const { id, orch, steps } = await zombieAndWinner(backend)
      const won = await steps.finish(
        'winner',
        [{ id, attempt: 2, to: 'success', outcome: { kind: 'result', value: '"winner"' } }],
        0,
      )
      expect(won.outcomes[0]).toMatchObject({ ok: true, state: { status: 'success', attempt: 2 } })
      const history = await orch.getHistory(id)

      const late = await steps.finish(
        'zombie',
        [{ id, attempt: 1, to: 'success', outcome: { kind: 'result', value: '"zombie"' } }],
        0,
      )
      expect(late.outcomes[0]).toMatchObject({ ok: false, reason: 'stale', attempt: 1 })
      // Where one backend holds both (its fused finish), the refused outcome is not even stored.
      if (steps === backend.steps)
        expect(await backend.stateBackend.getOutcomes([{ id, attempt: 1 }])).toEqual([null])
      const [final] = await steps.readFinal([id])
      expect(final).toMatchObject({
        state: { status: 'success', attempt: 2 },
        outcome: { kind: 'result', value: '"winner"' },
      })
      expect(await orch.getHistory(id)).toEqual(history)
    })

    it('a zombie finish before the new attempt ends cannot decide the result', async () => {
      const { backend } = await components()
      const { id, steps } = await zombieAndWinner(backend)
      // The zombie wakes first: refused, and its error is not what the result reads.
      const late = await steps.finish(
        'zombie',
        [
          {
            id,
            attempt: 1,
            to: 'failed',
            outcome: { kind: 'error', value: '{"name":"Error","message":"zombie"}' },
          },
        ],
        0,
      )
      expect(late.outcomes[0]).toMatchObject({ ok: false, reason: 'stale' })
      expect((await steps.readFinal([id]))[0]).toMatchObject({ state: { status: 'running' }, outcome: null })
      await steps.finish(
        'winner',
        [{ id, attempt: 2, to: 'success', outcome: { kind: 'result', value: '7' } }],
        0,
      )
      expect((await steps.readFinal([id]))[0]!.outcome).toEqual({ kind: 'result', value: '7' })
    })

    it('claim steps return the records; a finish claims the next ids for the same runner', async () => {
      const { backend } = await components()
      const reqs = await routeNew(backend, 3)
      const steps = stepsOf(backend)
      const first = await steps.claimQueued('r1', 1)
      expect(first.sawQueued).toBe(true)
      expect(first.claimed).toHaveLength(1)
      const c = first.claimed[0]!
      expect(c.record).toMatchObject({ id: c.state.id, taskName: 'task', args: '[]' })
      await backend.orchestrator.transition([
        { id: c.state.id, to: 'running', actor: 'r1', attempt: c.state.attempt },
      ])
      const fin = await steps.finish(
        'r1',
        [
          {
            id: c.state.id,
            attempt: c.state.attempt,
            to: 'success',
            outcome: { kind: 'result', value: '1' },
          },
        ],
        5,
      )
      expect(fin.outcomes[0]!.ok).toBe(true)
      expect(fin.next.claimed.map((n) => n.state.id).sort()).toEqual(
        reqs
          .map((r) => r.id)
          .filter((id) => id !== c.state.id)
          .sort(),
      )
      for (const n of fin.next.claimed) {
        expect(n.state).toMatchObject({ status: 'pending', owner: 'r1', attempt: 1 })
        expect(n.record?.id).toBe(n.state.id)
      }
      expect(await backend.broker.count()).toBe(0)
      const none = await steps.finish('r1', [], 0)
      expect(none).toEqual({ outcomes: [], next: { claimed: [], unclaimed: [], sawQueued: false } })
    })

    it('a claim step asked to start moves what it claims on to RUNNING, fenced, in the same step', async () => {
      const { backend } = await components()
      const reqs = await routeNew(backend, 3)
      const steps = stepsOf(backend)
      const first = await steps.claimQueued('r1', 1, true)
      expect(first.claimed).toHaveLength(1)
      const c = first.claimed[0]!
      expect(c.state).toMatchObject({ status: 'running', owner: 'r1', attempt: 1 })
      expect(c.record?.id).toBe(c.state.id)
      expect(
        (await backend.orchestrator.getHistory(c.state.id)).map((h) => [h.status, h.actor, h.attempt]),
      ).toEqual([
        ['registered', 'conformance-client', 0],
        ['pending', 'r1', 1],
        ['running', 'r1', 1],
      ])
      const fin = await steps.finish(
        'r1',
        [{ id: c.state.id, attempt: 1, to: 'success', outcome: { kind: 'result', value: '1' } }],
        5,
        true,
      )
      expect(fin.next.claimed).toHaveLength(2)
      for (const n of fin.next.claimed)
        expect(n.state).toMatchObject({ status: 'running', owner: 'r1', attempt: 1 })
      const states = await backend.orchestrator.getStates(reqs.map((r) => r.id))
      expect(states.map((st) => st!.status).sort()).toEqual(['running', 'running', 'success'])
    })

    it('a RETRY finished through the step is queued again after its delay', async () => {
      const { backend } = await components()
      const [req] = await routeNew(backend, 1)
      const id = req!.id
      const steps = stepsOf(backend)
      await steps.claimQueued('r1', 1)
      await backend.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
      await steps.finish('r1', [{ id, attempt: 1, to: 'retry', delayMs: 300 }], 0)
      expect((await steps.claimQueued('r1', 1)).claimed).toHaveLength(0)
      await new Promise((r) => setTimeout(r, 450))
      const later = await steps.claimQueued('r1', 1)
      expect(later.claimed.map((c) => [c.state.id, c.state.attempt])).toEqual([[id, 2]])
    })

    it('route reports registration reuse and queues only the new ids', async () => {
      const { backend } = await components()
      const reqs = newRequests(2, { registrationKey: `k-${Math.random()}` })
      const out = await stepsOf(backend).route(reqs.map(recordFor), reqs)
      expect(out[0]).toEqual({ id: reqs[0]!.id, reused: false })
      expect(out[1]).toEqual({ id: reqs[1]!.id, reused: true, existingId: reqs[0]!.id })
      expect(await backend.broker.count()).toBe(1)
    })
  })
}
