import { describe, expect, it } from 'vitest'
import { countStatements, requests, until, usePostgres } from './helpers.js'

describe('next ids claimed with a runner’s final transitions', () => {
  const pgt = usePostgres()

  /** One runner of the app in this process: it heartbeats and listens, as BaseRunner does. */
  async function withRunner(n: number) {
    const b = await pgt.backend()
    const unsubscribe = await b.broker.subscribe(() => {})
    await b.orchestrator.heartbeat(['runner'], true)
    await b.orchestrator.getBlockingInvocations(1) // learns that no wait exists
    await until(
      async () => (await countStatements(() => b.orchestrator.getBlockingInvocations(1))).statements === 0,
    )
    const reqs = requests(n)
    await b.orchestrator.register(reqs)
    await b.broker.route(reqs.map((r) => r.id))
    return { b, unsubscribe, ids: reqs.map((r) => r.id) }
  }

  /** retrieve → claim → RUNNING → SUCCESS for `max` ids, as the runner's loop does. */
  async function runBatch(b: Awaited<ReturnType<typeof withRunner>>['b'], max: number) {
    const ids = await b.broker.retrieve(max)
    const claimed = (await b.orchestrator.claim(ids, 'runner')).filter((o) => o.outcome === 'claimed')
    const started = claimed.map((o) => o.id)
    await b.orchestrator.transition(started.map((id) => ({ id, to: 'running', actor: 'runner' })))
    await b.stateBackend.setOutcomes(started.map((id) => ({ id, outcome: { kind: 'result', value: '1' } })))
    await b.orchestrator.transition(started.map((id) => ({ id, to: 'success', actor: 'runner' })))
    return started
  }

  it('the next retrieve() and claim() are answered without a round trip, in queue order', async () => {
    const { b, ids } = await withRunner(12)
    expect(await runBatch(b, 5)).toEqual(ids.slice(0, 5))
    const next = await countStatements(async () => {
      const got = await b.broker.retrieve(5)
      return { got, claims: await b.orchestrator.claim(got, 'runner') }
    })
    expect(next.statements).toBe(0)
    expect(next.result.got).toEqual(ids.slice(5, 10))
    expect(next.result.claims.map((c) => c.outcome)).toEqual(Array(5).fill('claimed'))
    const states = await b.orchestrator.getStates(ids.slice(5, 10))
    expect(states.every((s) => s?.status === 'pending' && s.owner === 'runner')).toBe(true)
    expect(await b.broker.count()).toBe(2)
  })

  it('claims nobody took go back to the queue when the runner stops listening', async () => {
    const { b, unsubscribe, ids } = await withRunner(8)
    await runBatch(b, 4)
    await unsubscribe()
    const states = await b.orchestrator.getStates(ids.slice(4))
    expect(states.map((s) => s?.status)).toEqual(Array(4).fill('rerouted'))
    expect(await b.broker.count()).toBe(4)
    expect((await b.orchestrator.getHistory(ids[4]!)).map((h) => h.status)).toEqual([
      'registered',
      'pending',
      'rerouted',
    ])
    // and they run normally afterwards
    expect(await b.broker.retrieve(10)).toEqual(ids.slice(4))
  })

  it('no claim ahead for transitions that do not end runs, for another runner, or while waits exist', async () => {
    const { b, ids } = await withRunner(6)
    const [first] = await b.broker.retrieve(1)
    await b.orchestrator.claim([first!], 'runner')
    await b.orchestrator.transition([{ id: first!, to: 'killed', actor: 'runner' }])
    expect(await b.broker.count()).toBe(5) // nothing popped
    const [second] = await b.broker.retrieve(1)
    await b.orchestrator.claim([second!], 'other-runner')
    await b.orchestrator.transition([{ id: second!, to: 'running', actor: 'other-runner' }])
    await b.orchestrator.transition([{ id: second!, to: 'success', actor: 'other-runner' }])
    expect(await b.broker.count()).toBe(4)
    await b.orchestrator.addWaiting(ids[5]!, [ids[4]!])
    const [third] = await b.broker.retrieve(1)
    await b.orchestrator.claim([third!], 'runner')
    await b.orchestrator.transition([{ id: third!, to: 'running', actor: 'runner' }])
    await b.orchestrator.transition([{ id: third!, to: 'success', actor: 'runner' }])
    expect(await b.broker.count()).toBe(3)
  })
})
