import { describe, expect, it } from 'vitest'
import { requests, usePostgres } from './helpers.js'

describe('apps sharing one schema', () => {
  const pgt = usePostgres()

  it('never see each other’s queue, invocations, records, outcomes, data or triggers', async () => {
    const a = await pgt.backend('app-a')
    const b = await pgt.backend('app-b')
    const [r] = requests(1, { registrationKey: 'same-key', runningKey: 'same-run-key' })
    // the same ids and keys in both apps
    await a.orchestrator.register([r!])
    expect((await b.orchestrator.register([r!]))[0]).toEqual({ id: r!.id, reused: false })
    await a.broker.route([r!.id])
    expect(await b.broker.count()).toBe(0)
    expect(await b.broker.retrieve(10)).toEqual([])
    expect((await a.orchestrator.claim([r!.id], 'w'))[0]!.outcome).toBe('claimed')
    // app b's invocation with the same running key is not blocked by app a's
    expect((await b.orchestrator.claim([r!.id], 'w'))[0]!.outcome).toBe('claimed')
    await a.stateBackend.setOutcomes([{ id: r!.id, attempt: 1, outcome: { kind: 'result', value: '"a"' } }])
    expect(await b.stateBackend.getOutcomes([{ id: r!.id, attempt: 1 }])).toEqual([null])
    await a.stateBackend.setWorkflowData('wf', 'k', '1')
    expect(await b.stateBackend.getWorkflowData('wf', 'k')).toBeNull()
    await a.clientDataStore.store([{ key: 'h', value: 'v' }])
    expect(await b.clientDataStore.retrieve(['h'])).toEqual([null])
    await a.triggerStore.setTaskTriggers('t', [
      { id: 't1', taskId: 't', conditionIds: ['c'], logic: 'and', spec: '{}' },
    ])
    expect(await b.triggerStore.getTriggers()).toEqual([])
    await a.orchestrator.heartbeat(['runner-a'], true)
    expect(await b.orchestrator.getActiveRunners(60_000)).toEqual([])
    expect(await a.orchestrator.listInvocations({})).toEqual([r!.id])
    expect(await b.orchestrator.getHistory(r!.id)).toHaveLength(2)
    expect(await a.orchestrator.getHistory(r!.id)).toHaveLength(2)

    // purging app a leaves app b intact
    await Promise.all([
      a.broker.purge(),
      a.orchestrator.purge(),
      a.stateBackend.purge(),
      a.clientDataStore.purge(),
      a.triggerStore.purge(),
    ])
    expect(await a.orchestrator.getStates([r!.id])).toEqual([null])
    expect((await b.orchestrator.getStates([r!.id]))[0]).toMatchObject({ status: 'pending', owner: 'w' })
  })

  it('final-status notifications reach only their own app', async () => {
    const a = await pgt.backend('app-a')
    const b = await pgt.backend('app-b')
    const seenA: string[] = []
    const seenB: string[] = []
    await a.orchestrator.subscribeFinal((ids) => seenA.push(...ids))
    await b.orchestrator.subscribeFinal((ids) => seenB.push(...ids))
    const [r] = requests(1, { runningKey: 'k' })
    const [r2] = requests(1, { runningKey: 'k' })
    await b.orchestrator.register([r!, r2!])
    expect((await b.orchestrator.claim([r!.id, r2!.id], 'w')).map((o) => o.outcome)).toEqual([
      'claimed',
      'controlled_final',
    ])
    const deadline = Date.now() + 2000
    while (seenB.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10))
    await new Promise((res) => setTimeout(res, 100))
    expect(seenB).toEqual([r2!.id])
    expect(seenA).toEqual([])
  })
})
