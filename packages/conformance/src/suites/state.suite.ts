import { type InvocationRecord, newInvocationId } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, useBackend } from '../harness.js'

const record = (over: Partial<InvocationRecord> = {}): InvocationRecord => {
  const id = newInvocationId()
  return {
    id,
    taskId: 'app.t',
    taskName: 't',
    callId: `app.t:${id}`,
    args: '[1,"two",{"three":3}]',
    parentId: null,
    workflow: { id, type: 'app.t', parentWorkflowId: null },
    createdAt: Date.now(),
    ...over,
  }
}

export function describeStores(name: string, factory: BackendFactory): void {
  describe(`${name}: state backend, client data store, trigger store`, () => {
    const { components } = useBackend(factory)

    it('stores invocation records and finds children by parent', async () => {
      const { backend } = await components()
      const parent = record()
      const kids = [record({ parentId: parent.id }), record({ parentId: parent.id })]
      await backend.stateBackend.upsertInvocations([parent, ...kids])
      await backend.stateBackend.upsertInvocations([kids[0]!]) // repeat call: no duplicate child
      expect(await backend.stateBackend.getInvocations([kids[1]!.id, 'missing', parent.id])).toEqual([
        kids[1],
        null,
        parent,
      ])
      expect((await backend.stateBackend.getChildInvocations(parent.id)).sort()).toEqual(
        kids.map((k) => k.id).sort(),
      )
    })

    it('stores outcomes write-once per attempt, and workflow data', async () => {
      const { backend } = await components()
      const r = record()
      await backend.stateBackend.setOutcomes([
        { id: r.id, attempt: 1, outcome: { kind: 'error', value: '{"name":"E","message":"m"}' } },
      ])
      // A late write for the same attempt (a runner presumed dead) keeps the first one.
      await backend.stateBackend.setOutcomes([
        { id: r.id, attempt: 1, outcome: { kind: 'result', value: '41' } },
      ])
      await backend.stateBackend.setOutcomes([
        { id: r.id, attempt: 2, outcome: { kind: 'result', value: '42' } },
      ])
      expect(
        await backend.stateBackend.getOutcomes([
          { id: r.id, attempt: 2 },
          { id: r.id, attempt: 1 },
          { id: r.id, attempt: 3 },
          { id: 'none', attempt: 1 },
        ]),
      ).toEqual([
        { kind: 'result', value: '42' },
        { kind: 'error', value: '{"name":"E","message":"m"}' },
        null,
        null,
      ])
      await backend.stateBackend.setWorkflowData('wf1', 'k', '"v1"')
      await backend.stateBackend.setWorkflowData('wf1', 'k', '"v2"')
      expect(await backend.stateBackend.getWorkflowData('wf1', 'k')).toBe('"v2"')
      expect(await backend.stateBackend.getWorkflowData('wf1', 'other')).toBeNull()
    })

    it('stores runner contexts', async () => {
      const { backend } = await components()
      const ctx = {
        runnerId: 'r-1',
        runnerClass: 'ThreadRunner',
        parentRunnerId: null,
        pid: 1,
        hostname: 'h',
        startedAt: 5,
      }
      await backend.stateBackend.storeRunnerContext(ctx)
      expect(await backend.stateBackend.getRunnerContext('r-1')).toEqual(ctx)
      expect(await backend.stateBackend.getRunnerContext('r-2')).toBeNull()
      // A top-level runner's slot count; a child's context has none.
      await backend.stateBackend.storeRunnerContext({ ...ctx, slots: 16 })
      expect(await backend.stateBackend.getRunnerContext('r-1')).toEqual({ ...ctx, slots: 16 })
      expect(await backend.stateBackend.getRunnerContext('r-1')).toHaveProperty('slots', 16)
      await backend.stateBackend.storeRunnerContext(ctx)
      expect(await backend.stateBackend.getRunnerContext('r-1')).not.toHaveProperty('slots')
    })

    it('client data store: values by key, unknown keys null, large values intact', async () => {
      const { backend } = await components()
      const big = 'x'.repeat(2_000_000)
      await backend.clientDataStore.store([
        { key: 'k1', value: 'small' },
        { key: 'k2', value: big },
      ])
      await backend.clientDataStore.store([{ key: 'k1', value: 'small' }])
      const [a, b, c] = await backend.clientDataStore.retrieve(['k1', 'k2', 'k3'])
      expect(a).toBe('small')
      expect(b?.length).toBe(big.length)
      expect(c).toBeNull()
    })

    it('trigger store: cron compare-and-set has one winner among 20', async () => {
      const { backend } = await components()
      const outs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          backend.triggerStore.setLastCronExecution('cron-1', null, 1000 + i),
        ),
      )
      expect(outs.filter(Boolean)).toHaveLength(1)
      const stored = await backend.triggerStore.getLastCronExecution('cron-1')
      expect(await backend.triggerStore.setLastCronExecution('cron-1', stored, 5000)).toBe(true)
      expect(await backend.triggerStore.setLastCronExecution('cron-1', stored, 6000)).toBe(false)
      expect(await backend.triggerStore.getLastCronExecution('cron-1')).toBe(5000)
    })

    it('trigger store: a run id is claimed once within its ttl', async () => {
      const { backend } = await components()
      const outs = await Promise.all(
        Array.from({ length: 20 }, () => backend.triggerStore.claimTriggerRun('run-1', 60_000)),
      )
      expect(outs.filter(Boolean)).toHaveLength(1)
      expect(await backend.triggerStore.claimTriggerRun('run-2', 100)).toBe(true)
      await new Promise((r) => setTimeout(r, 1200))
      expect(await backend.triggerStore.claimTriggerRun('run-2', 100)).toBe(true)
    })

    it('trigger store: definitions per task and valid conditions', async () => {
      const { backend } = await components()
      const t1 = { id: 't1', taskId: 'app.a', conditionIds: ['c1', 'c2'], logic: 'and' as const, spec: '{}' }
      const t2 = { id: 't2', taskId: 'app.b', conditionIds: ['c2'], logic: 'or' as const, spec: '{}' }
      await backend.triggerStore.setTaskTriggers('app.a', [t1])
      await backend.triggerStore.setTaskTriggers('app.b', [t2])
      expect((await backend.triggerStore.getTriggers('c2')).map((t) => t.id).sort()).toEqual(['t1', 't2'])
      await backend.triggerStore.setTaskTriggers('app.a', [])
      expect((await backend.triggerStore.getTriggers()).map((t) => t.id)).toEqual(['t2'])
      await backend.triggerStore.addValidConditions([{ id: 'v1', conditionId: 'c2', context: '{}' }])
      await backend.triggerStore.addValidConditions([{ id: 'v1', conditionId: 'c2', context: '{}' }])
      expect(await backend.triggerStore.getValidConditions()).toHaveLength(1)
      await backend.triggerStore.clearValidConditions(['v1'])
      expect(await backend.triggerStore.getValidConditions()).toEqual([])
    })
  })
}
