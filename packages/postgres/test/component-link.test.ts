import { describe, expect, it } from 'vitest'
import { PostgresOrchestrator, PostgresStateBackend, postgresBackend } from '../src/index.js'
import { countStatements, initAll, PG_URL, requests, sleep, until, usePostgres } from './helpers.js'

const recordOf = (r: ReturnType<typeof requests>[number]) => ({
  id: r.id,
  taskId: r.taskId,
  taskName: 't',
  callId: r.callId,
  args: `[${JSON.stringify(r.id)}]`,
  parentId: null,
  workflow: { id: r.id, type: r.taskId, parentWorkflowId: null },
  createdAt: 1_700_000_000_000,
})

describe('round trips saved between the components of one connection', () => {
  const pgt = usePostgres()

  async function otherProcess() {
    const b = postgresBackend({ connectionString: PG_URL, schema: pgt.currentSchema() })
    pgt.track(b)
    return initAll(b, 'app')
  }

  it('records come back with the claim and are served once, exactly as stored', async () => {
    const b = await pgt.backend()
    const reqs = requests(3)
    await b.stateBackend.upsertInvocations(reqs.map(recordOf))
    await b.orchestrator.register(reqs)
    await b.orchestrator.claim(
      reqs.map((r) => r.id),
      'w',
    )
    const ids = reqs.map((r) => r.id)
    const { result, statements } = await countStatements(() => b.stateBackend.getInvocations(ids))
    expect(statements).toBe(0)
    expect(result).toEqual(reqs.map(recordOf))
    // served once: the next read goes to the table, with the same answer
    const again = await countStatements(() => b.stateBackend.getInvocations([...ids, 'missing']))
    expect(again.statements).toBe(1)
    expect(again.result).toEqual([...reqs.map(recordOf), null])
  })

  it('outcomes go out with the final transition, atomically with the status', async () => {
    const b = await pgt.backend()
    const other = await otherProcess()
    const [r] = requests(1)
    await b.orchestrator.register([r!])
    await b.orchestrator.claim([r!.id], 'w')
    await b.orchestrator.transition([{ id: r!.id, to: 'running', actor: 'w' }])
    // as core's finish batcher does: outcomes, then at once the final transition
    const { statements } = await countStatements(async () => {
      await b.stateBackend.setOutcomes([{ id: r!.id, outcome: { kind: 'result', value: '42' } }])
      await b.orchestrator.transition([{ id: r!.id, to: 'success', actor: 'w' }])
    })
    expect(statements).toBe(1)
    expect(await other.stateBackend.getOutcomes([r!.id])).toEqual([{ kind: 'result', value: '42' }])
  })

  it('staged outcomes are readable at once here, and never commit after their final status', async () => {
    const b = await pgt.backend()
    const other = await otherProcess()
    const [r] = requests(1)
    await b.orchestrator.register([r!])
    await b.orchestrator.claim([r!.id], 'w')
    await b.orchestrator.transition([{ id: r!.id, to: 'running', actor: 'w' }])
    await b.stateBackend.setOutcomes([{ id: r!.id, outcome: { kind: 'error', value: '{"name":"E"}' } }])
    expect(await b.stateBackend.getOutcomes([r!.id])).toEqual([{ kind: 'error', value: '{"name":"E"}' }])
    // the outcomes may be on their way on their own now: the transition waits for that write
    await b.orchestrator.transition([{ id: r!.id, to: 'failed', actor: 'w' }])
    expect(await other.stateBackend.getOutcomes([r!.id])).toEqual([{ kind: 'error', value: '{"name":"E"}' }])
  })

  it('outcomes no transition takes are written on their own, and seen by other processes', async () => {
    const b = await pgt.backend()
    const other = await otherProcess()
    await b.stateBackend.setOutcomes([{ id: 'lonely', outcome: { kind: 'error', value: '{}' } }])
    await until(async () => (await other.stateBackend.getOutcomes(['lonely']))[0] !== null, 2000)
  })

  it('a state backend without the app orchestrator on its connection writes at once', async () => {
    const schema = pgt.currentSchema()
    const state = new PostgresStateBackend({ connectionString: PG_URL, schema })
    const orchestrator = new PostgresOrchestrator({ connectionString: PG_URL, schema })
    await state.init({ appId: 'app' })
    await orchestrator.init({ appId: 'app' })
    try {
      const { statements } = await countStatements(() =>
        state.setOutcomes([{ id: 'x', outcome: { kind: 'result', value: '1' } }]),
      )
      expect(statements).toBe(1)
    } finally {
      await state.close()
      await orchestrator.close()
    }
  })

  it('getBlockingInvocations() costs nothing while the app has no waits, and sees new ones from anywhere', async () => {
    const b = await pgt.backend()
    const other = await otherProcess()
    const [child, parent] = requests(2)
    await b.orchestrator.register([child!, parent!])
    expect(await b.orchestrator.getBlockingInvocations(5)).toEqual([]) // subscribes
    await sleep(100)
    expect(await b.orchestrator.getBlockingInvocations(5)).toEqual([]) // queries, sees no edge
    const idle = await countStatements(() => b.orchestrator.getBlockingInvocations(5))
    expect(idle.statements).toBe(0)
    await other.orchestrator.addWaiting(parent!.id, [child!.id])
    await until(async () => (await b.orchestrator.getBlockingInvocations(5)).length === 1, 2000)
    expect(await b.orchestrator.getBlockingInvocations(5)).toEqual([child!.id])
  })
})
