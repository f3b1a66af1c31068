import { describe, expect, it } from 'vitest'
import { postgresBackend } from '../src/index.js'
import { countStatements, initAll, PG_URL, requests, usePostgres } from './helpers.js'

describe('claim', () => {
  const pgt = usePostgres()

  /** `n` backends on the test's schema and app, each with its own pool: separate "processes". */
  async function processes(n: number, appId = 'app') {
    const schema = pgt.currentSchema()
    const out = []
    for (let i = 0; i < n; i++) {
      const b = postgresBackend({ connectionString: PG_URL, schema, maxConnections: 2 })
      pgt.track(b)
      out.push(await initAll(b, appId))
    }
    return out
  }

  it('20 concurrent claimers in separate processes: exactly one wins, history written once', async () => {
    const ps = await processes(20)
    const [req] = requests(1)
    await ps[0]!.orchestrator.register([req!])
    const outs = await Promise.all(ps.map((p, i) => p.orchestrator.claim([req!.id], `runner-${i}`)))
    const winners = outs.flat().filter((o) => o.outcome === 'claimed')
    expect(winners).toHaveLength(1)
    expect(outs.flat().filter((o) => o.outcome === 'skipped')).toHaveLength(19)
    expect((await ps[0]!.orchestrator.getHistory(req!.id)).map((h) => h.status)).toEqual([
      'registered',
      'pending',
    ])
  })

  it('running concurrency holds across processes: same key, different ids, one claimed per round', async () => {
    const ps = await processes(6)
    for (let round = 0; round < 5; round++) {
      const reqs = requests(6, { runningKey: `k-${round}`, reroute: true })
      await ps[0]!.orchestrator.register(reqs)
      const outs = await Promise.all(ps.map((p, i) => p.orchestrator.claim([reqs[i]!.id], `runner-${i}`)))
      const outcomes = outs.flat().map((o) => o.outcome)
      expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1)
      expect(outcomes.filter((o) => o === 'controlled')).toHaveLength(5)
    }
  })

  it('in one batch only the first id of a running key is claimed; ids without a key are unaffected', async () => {
    const b = await pgt.backend()
    const keyed = requests(3, { runningKey: 'k' })
    const free = requests(2)
    await b.orchestrator.register([...keyed, ...free])
    const ids = [free[0]!.id, keyed[0]!.id, keyed[1]!.id, free[1]!.id, keyed[2]!.id]
    const out = await b.orchestrator.claim(ids, 'r1')
    expect(out.map((o) => [o.id, o.outcome])).toEqual([
      [ids[0], 'claimed'],
      [ids[1], 'claimed'],
      [ids[2], 'controlled_final'],
      [ids[3], 'claimed'],
      [ids[4], 'controlled_final'],
    ])
  })

  it('a repeated id in one batch is claimed once; the repeat is skipped', async () => {
    const b = await pgt.backend()
    const [a] = requests(1)
    await b.orchestrator.register([a!])
    const out = await b.orchestrator.claim([a!.id, a!.id], 'r1')
    expect(out.map((o) => o.outcome)).toEqual(['claimed', 'skipped'])
    expect(await b.orchestrator.getHistory(a!.id)).toHaveLength(2)
  })

  it('a blocked RETRY invocation is deferred, unchanged, however often it appears', async () => {
    const b = await pgt.backend()
    const [holder, retried] = requests(2, { runningKey: 'r' })
    await b.orchestrator.register([holder!, retried!])
    await b.orchestrator.claim([retried!.id], 'r1')
    await b.orchestrator.transition([{ id: retried!.id, to: 'running', actor: 'r1' }])
    await b.orchestrator.transition([{ id: retried!.id, to: 'retry', actor: 'r1' }])
    await b.orchestrator.claim([holder!.id], 'r1')
    const out = await b.orchestrator.claim([retried!.id, retried!.id], 'r2')
    expect(out.map((o) => o.outcome)).toEqual(['deferred', 'deferred'])
    expect((await b.orchestrator.getStates([retried!.id]))[0]).toMatchObject({ status: 'retry', retries: 1 })
  })

  it('claims a batch of 2,000 in one round trip, keyed or not', async () => {
    const b = await pgt.backend()
    const reqs = [...requests(1500), ...requests(500, { runningKey: 'bulk', reroute: true })]
    await b.orchestrator.register(reqs)
    const { result, statements } = await countStatements(() =>
      b.orchestrator.claim(
        reqs.map((r) => r.id),
        'r1',
      ),
    )
    expect(statements).toBe(1)
    expect(result.filter((o) => o.outcome === 'claimed')).toHaveLength(1501)
    expect(result.filter((o) => o.outcome === 'controlled')).toHaveLength(499)
  })
})
