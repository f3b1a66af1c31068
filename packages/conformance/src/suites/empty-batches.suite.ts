import { describe, expect, it } from 'vitest'
import { type BackendFactory, useBackend } from '../harness.js'

/**
 * Every batch method of every component, and every fused step, takes an empty batch: it answers
 * with an empty result and stores nothing. Core relies on it (a finish with nothing to finish, a
 * claim with no room) and so do callers that batch their own work; a backend that sends an
 * empty `IN ()`, `unnest` of nothing or an `EVALSHA` with no keys fails here first.
 */
export function describeEmptyBatches(name: string, factory: BackendFactory): void {
  describe(`${name}: empty batches`, () => {
    const { components } = useBackend(factory)

    it('each component answers an empty batch with an empty result and stores nothing', async () => {
      const { backend } = await components()
      const { orchestrator, broker, stateBackend, clientDataStore, triggerStore } = backend
      expect(await orchestrator.register([])).toEqual([])
      expect(await orchestrator.transition([])).toEqual([])
      expect(await orchestrator.claim([], 'runner-empty')).toEqual([])
      expect(await orchestrator.getStates([])).toEqual([])
      await orchestrator.addWaiting('waiter', [])
      await orchestrator.heartbeat([], false)
      await broker.route([])
      expect(await broker.retrieve(0)).toEqual([])
      await stateBackend.upsertInvocations([])
      expect(await stateBackend.getInvocations([])).toEqual([])
      await stateBackend.setOutcomes([])
      expect(await stateBackend.getOutcomes([])).toEqual([])
      await clientDataStore.store([])
      expect(await clientDataStore.retrieve([])).toEqual([])
      await triggerStore.addValidConditions([])
      await triggerStore.clearValidConditions([])
      expect(await orchestrator.listInvocations({ limit: 10 })).toEqual([])
      expect(await broker.count()).toBe(0)
      expect(await triggerStore.getValidConditions()).toEqual([])
    })

    it('each fused step answers an empty batch with an empty result', async (ctx) => {
      const { backend } = await components()
      const steps = backend.steps
      if (!steps) {
        console.log(`[skip] ${name}: this backend has no fused steps; the composed path is checked above`)
        ctx.skip()
        return
      }
      const nothing = { claimed: [], unclaimed: [], sawQueued: false }
      expect(await steps.route([], [])).toEqual([])
      expect(await steps.claimIds('runner-empty', [])).toEqual(nothing)
      expect((await steps.claimQueued('runner-empty', 0)).claimed).toEqual([])
      expect(await steps.finish('runner-empty', [], 0)).toEqual({ outcomes: [], next: nothing })
      expect(await steps.readFinal([])).toEqual([])
      expect(await backend.orchestrator.listInvocations({ limit: 10 })).toEqual([])
    })
  })
}
