import { describe, expect, it } from 'vitest'
import { type BackendFactory, newRequests, useBackend } from '../harness.js'

export function describeClaims(name: string, factory: BackendFactory): void {
  describe(`${name}: claims and running concurrency`, () => {
    const { components } = useBackend(factory)

    it('claim() by 20 concurrent runners of one invocation: exactly one wins', async () => {
      const { backend } = await components()
      const [req] = newRequests(1)
      await backend.orchestrator.register([req!])
      const outs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => backend.orchestrator.claim([req!.id], `runner-${i}`)),
      )
      const winners = outs
        .map((o, i) => ({ runner: `runner-${i}`, o: o[0]! }))
        .filter((w) => w.o.outcome === 'claimed')
      expect(winners).toHaveLength(1)
      expect(outs.flat().filter((o) => o.outcome === 'skipped')).toHaveLength(19)
      const [state] = await backend.orchestrator.getStates([req!.id])
      expect(state).toMatchObject({ status: 'pending', owner: winners[0]!.runner })
      expect(await backend.orchestrator.getHistory(req!.id)).toHaveLength(2)
    })

    it('claim() skips unknown ids and ids no longer available for run', async () => {
      const { backend } = await components()
      const reqs = newRequests(2)
      await backend.orchestrator.register(reqs)
      await backend.orchestrator.claim([reqs[0]!.id], 'r1')
      const out = await backend.orchestrator.claim([reqs[0]!.id, 'unknown-id', reqs[1]!.id], 'r2')
      expect(out.map((o) => o.outcome)).toEqual(['skipped', 'skipped', 'claimed'])
    })

    it('a running key held by an active invocation blocks the claim: dropped without reroute', async () => {
      const { backend } = await components()
      const reqs = newRequests(3, { runningKey: 'k1' })
      await backend.orchestrator.register(reqs)
      const out = await backend.orchestrator.claim(
        reqs.map((r) => r.id),
        'r1',
      )
      expect(out.map((o) => o.outcome)).toEqual(['claimed', 'controlled_final', 'controlled_final'])
      const states = await backend.orchestrator.getStates(reqs.map((r) => r.id))
      expect(states.map((s) => s!.status)).toEqual([
        'pending',
        'concurrency_controlled_final',
        'concurrency_controlled_final',
      ])
    })

    it('with reroute the blocked invocation becomes CONCURRENCY_CONTROLLED and can be claimed after the holder ends', async () => {
      const { backend } = await components()
      const [a, b] = newRequests(2, { runningKey: 'k2', rerouteOnConcurrencyControl: true })
      await backend.orchestrator.register([a!, b!])
      expect((await backend.orchestrator.claim([a!.id, b!.id], 'r1')).map((o) => o.outcome)).toEqual([
        'claimed',
        'controlled',
      ])
      await backend.orchestrator.transition([{ id: b!.id, to: 'rerouted', actor: 'r1' }])
      // still blocked while a is active (PENDING, then RUNNING)
      await backend.orchestrator.transition([{ id: a!.id, to: 'running', actor: 'r1' }])
      expect((await backend.orchestrator.claim([b!.id], 'r2'))[0]!.outcome).toBe('controlled')
      await backend.orchestrator.transition([
        { id: b!.id, to: 'rerouted', actor: 'r2' },
        { id: a!.id, to: 'success', actor: 'r1' },
      ])
      expect((await backend.orchestrator.claim([b!.id], 'r2'))[0]!.outcome).toBe('claimed')
    })

    it('a blocked RETRY invocation is deferred, unchanged (RETRY cannot enter a controlled status)', async () => {
      const { backend } = await components()
      const [a, b] = newRequests(2, { runningKey: 'k3' })
      await backend.orchestrator.register([a!, b!])
      await backend.orchestrator.claim([b!.id], 'r1')
      await backend.orchestrator.transition([{ id: b!.id, to: 'running', actor: 'r1' }])
      await backend.orchestrator.transition([{ id: b!.id, to: 'retry', actor: 'r1' }])
      await backend.orchestrator.claim([a!.id], 'r1')
      const [out] = await backend.orchestrator.claim([b!.id], 'r2')
      expect(out!.outcome).toBe('deferred')
      expect((await backend.orchestrator.getStates([b!.id]))[0]!.status).toBe('retry')
    })

    it('different running keys do not block each other; no key never blocks', async () => {
      const { backend } = await components()
      const reqs = [
        ...newRequests(1, { runningKey: 'x' }),
        ...newRequests(1, { runningKey: 'y' }),
        ...newRequests(2),
      ]
      await backend.orchestrator.register(reqs)
      const out = await backend.orchestrator.claim(
        reqs.map((r) => r.id),
        'r1',
      )
      expect(out.every((o) => o.outcome === 'claimed')).toBe(true)
    })

    it('20 concurrent claimers of 20 same-key invocations: exactly one is claimed', async () => {
      const { backend } = await components()
      const reqs = newRequests(20, { runningKey: 'hot', rerouteOnConcurrencyControl: true })
      await backend.orchestrator.register(reqs)
      const outs = await Promise.all(reqs.map((r, i) => backend.orchestrator.claim([r.id], `runner-${i}`)))
      expect(outs.flat().filter((o) => o.outcome === 'claimed')).toHaveLength(1)
      expect(outs.flat().filter((o) => o.outcome === 'controlled')).toHaveLength(19)
    })

    it('a blocked invocation is parked on its key and released, oldest first, by the transition that frees the key', async () => {
      const { backend } = await components()
      const orch = backend.orchestrator
      const [a, b, c] = newRequests(3, {
        runningKey: `park-${Math.random()}`,
        rerouteOnConcurrencyControl: true,
      })
      await orch.register([a!, b!, c!])
      expect((await orch.claim([a!.id, b!.id, c!.id], 'r1')).map((o) => o.outcome)).toEqual([
        'claimed',
        'controlled',
        'controlled',
      ])
      // Active to active releases nothing.
      const [running] = await orch.transition([{ id: a!.id, to: 'running', actor: 'r1', attempt: 1 }])
      expect(running).toMatchObject({ ok: true })
      expect(running!.ok && running!.released?.length ? running!.released : []).toEqual([])
      // Leaving the active statuses frees the key: the oldest parked one (b) is released, once.
      const [done] = await orch.transition([{ id: a!.id, to: 'success', actor: 'r1', attempt: 1 }])
      expect(done).toMatchObject({ ok: true, released: [b!.id] })
      expect((await orch.getStates([b!.id, c!.id])).map((st) => st!.status)).toEqual([
        'concurrency_controlled',
        'concurrency_controlled',
      ])
      // b runs and ends: c is next.
      await orch.transition([{ id: b!.id, to: 'rerouted', actor: 'r1' }])
      expect((await orch.claim([b!.id], 'r1'))[0]!.outcome).toBe('claimed')
      const [bRetry] = await orch
        .transition([
          { id: b!.id, to: 'running', actor: 'r1', attempt: 1 },
          { id: b!.id, to: 'retry', actor: 'r1', attempt: 1 },
        ])
        .then((o) => [o[1]])
      expect(bRetry).toMatchObject({ ok: true, released: [c!.id] })
      // Its history does not grow while it waits, however long that is.
      expect((await orch.getHistory(c!.id)).map((h) => h.status)).toEqual([
        'registered',
        'concurrency_controlled',
      ])
    })

    it('registration concurrency reuses a REGISTERED invocation with the same key, then stops once it is claimed', async () => {
      const { backend } = await components()
      const [a, b] = newRequests(2, { registrationKey: 'reg-1' })
      const first = await backend.orchestrator.register([a!, b!])
      expect(first[0]).toEqual({ id: a!.id, reused: false })
      expect(first[1]).toEqual({ id: b!.id, reused: true, existingId: a!.id })
      expect(await backend.orchestrator.getStates([b!.id])).toEqual([null])
      await backend.orchestrator.claim([a!.id], 'r1')
      const [c] = newRequests(1, { registrationKey: 'reg-1' })
      expect((await backend.orchestrator.register([c!]))[0]).toEqual({ id: c!.id, reused: false })
    })
  })
}
