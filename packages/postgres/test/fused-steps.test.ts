import { recordFor } from '@nenc/conformance'
import { describe, expect, it } from 'vitest'
import type { PostgresBackend } from '../src/index.js'
import { FINAL_OUTCOME_IN_ROW_MAX_CHARS } from '../src/migrations/0001_init.js'
import { admin, countStatements, requests, sleep, usePostgres } from './helpers.js'

const result = (value: string) => ({ kind: 'result' as const, value })

describe('postgres fused steps', () => {
  const pgt = usePostgres()

  async function routed(b: PostgresBackend, n: number) {
    const reqs = requests(n)
    const out = await b.steps.route(reqs.map(recordFor), reqs)
    expect(out.every((r) => !r.reused)).toBe(true)
    return reqs
  }

  /** Claimed by r1 and RUNNING (attempt 1), then recovered and claimed by r2 (attempt 2). */
  async function reclaimed(b: PostgresBackend) {
    const [r] = await routed(b, 1)
    const first = await b.steps.claimQueued('r1', 1)
    expect(first.claimed[0]!.state.attempt).toBe(1)
    const id = r!.id
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
    await b.orchestrator.transition([{ id, to: 'running_recovery', actor: 'recovery' }])
    await b.orchestrator.transition([{ id, to: 'rerouted', actor: 'recovery' }])
    const second = await b.steps.claimIds('r2', [id])
    expect(second.claimed[0]!.state).toMatchObject({ status: 'pending', owner: 'r2', attempt: 2 })
    return id
  }

  it('claimQueued returns the claimed states with their records, each popped id once', async () => {
    const b = await pgt.backend()
    const reqs = await routed(b, 3)
    await b.broker.route([reqs[0]!.id]) // a duplicate queue entry
    await admin().query(`DELETE FROM "${pgt.currentSchema()}".invocation_records WHERE id = $1`, [
      reqs[2]!.id,
    ])
    const batch = await b.steps.claimQueued('r1', 10)
    expect(batch.sawQueued).toBe(true)
    expect(batch.unclaimed).toEqual([])
    expect(batch.claimed.map((c) => c.state.id)).toEqual(reqs.map((r) => r.id))
    expect(batch.claimed.map((c) => c.state.attempt)).toEqual([1, 1, 1])
    expect(batch.claimed[0]!.record).toEqual(recordFor(reqs[0]!))
    expect(batch.claimed[1]!.record).toEqual(recordFor(reqs[1]!))
    expect(batch.claimed[2]!.record).toBeNull()
    expect(await b.broker.count()).toBe(0)
    expect(await b.steps.claimQueued('r1', 10)).toEqual({ claimed: [], unclaimed: [], sawQueued: false })
  })

  it('finish refuses a stale attempt: outcome, status and history unchanged', async () => {
    const b = await pgt.backend()
    const id = await reclaimed(b)
    const history = await b.orchestrator.getHistory(id)
    const [state] = await b.orchestrator.getStates([id])
    const out = await b.steps.finish('r1', [{ id, attempt: 1, to: 'success', outcome: result('"late"') }], 0)
    expect(out.outcomes[0]).toMatchObject({ ok: false, reason: 'stale', attempt: 1, current: { attempt: 2 } })
    expect(out.next).toEqual({ claimed: [], unclaimed: [], sawQueued: false })
    expect(await b.orchestrator.getStates([id])).toEqual([state])
    expect(await b.orchestrator.getHistory(id)).toEqual(history)
    expect(
      await b.stateBackend.getOutcomes([
        { id, attempt: 1 },
        { id, attempt: 2 },
      ]),
    ).toEqual([null, null])
    // the attempt that holds it finishes normally
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r2', attempt: 2 }])
    const ok = await b.steps.finish('r2', [{ id, attempt: 2, to: 'success', outcome: result('"won"') }], 0)
    expect(ok.outcomes[0]).toMatchObject({ ok: true, state: { status: 'success', attempt: 2 } })
    expect((await b.orchestrator.getHistory(id)).at(-1)).toMatchObject({ status: 'success', attempt: 2 })
    expect(await b.steps.readFinal([id])).toEqual([
      { state: expect.objectContaining({ status: 'success', attempt: 2 }), outcome: result('"won"') },
    ])
  })

  it('outcomes are write-once per attempt, through setOutcomes and through finish', async () => {
    const b = await pgt.backend()
    const [r] = await routed(b, 1)
    const id = r!.id
    await b.stateBackend.setOutcomes([
      { id, attempt: 1, outcome: result('1') },
      { id, attempt: 1, outcome: result('2') },
    ])
    await b.stateBackend.setOutcomes([
      { id, attempt: 1, outcome: result('3') },
      { id, attempt: 2, outcome: result('4') },
    ])
    expect(
      await b.stateBackend.getOutcomes([
        { id, attempt: 1 },
        { id, attempt: 2 },
        { id, attempt: 3 },
      ]),
    ).toEqual([result('1'), result('4'), null])
    // finish of attempt 1 is accepted, but the attempt already has its outcome: kept
    await b.steps.claimQueued('r1', 1)
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
    const out = await b.steps.finish('r1', [{ id, attempt: 1, to: 'failed', outcome: result('5') }], 0)
    expect(out.outcomes[0]!.ok).toBe(true)
    expect(await b.stateBackend.getOutcomes([{ id, attempt: 1 }])).toEqual([result('1')])
  })

  it("a final outcome written by finish lives in the invocation's row: one write, read by every reader, removed with the state", async () => {
    const b = await pgt.backend()
    const schema = pgt.currentSchema()
    const reqs = await routed(b, 4)
    const ids = reqs.map((r) => r.id)
    const claimed = await b.steps.claimQueued('r1', 4, true)
    expect(claimed.claimed).toHaveLength(4)
    const [retried, ...finals] = ids
    const out = await b.steps.finish(
      'r1',
      [
        { id: retried!, attempt: 1, to: 'retry', outcome: { kind: 'error', value: '{"e":1}' } },
        { id: finals[0]!, attempt: 1, to: 'success', outcome: result('"a"') },
        { id: finals[1]!, attempt: 1, to: 'failed', outcome: { kind: 'error', value: '{"e":2}' } },
        { id: finals[2]!, attempt: 1, to: 'success', outcome: result('"c"') },
      ],
      0,
    )
    expect(out.outcomes.every((o) => o.ok)).toBe(true)
    // only the retry's error is an outcomes row; the finals are in their rows
    const stored = await admin().query(`SELECT id, attempt FROM "${schema}".outcomes WHERE app_id = $1`, [
      'app',
    ])
    expect(stored.rows).toEqual([{ id: retried, attempt: 1 }])
    const inRows = await admin().query(
      `SELECT id, final_kind, final_value FROM "${schema}".invocations WHERE app_id = $1 AND final_kind IS NOT NULL ORDER BY id`,
      ['app'],
    )
    expect(inRows.rows.map((r) => r.id).sort()).toEqual([...finals].sort())
    const expected = [result('"a"'), { kind: 'error', value: '{"e":2}' }, result('"c"')]
    expect(await b.stateBackend.getOutcomes(finals.map((id) => ({ id, attempt: 1 })))).toEqual(expected)
    expect((await b.steps.readFinal(finals)).map((f) => f.outcome)).toEqual(expected)
    expect(await b.stateBackend.getOutcomes([{ id: retried!, attempt: 1 }])).toEqual([
      { kind: 'error', value: '{"e":1}' },
    ])
    // write-once: a late setOutcomes for the same attempt keeps the one finish wrote
    await b.stateBackend.setOutcomes([{ id: finals[0]!, attempt: 1, outcome: result('"late"') }])
    expect(await b.stateBackend.getOutcomes([{ id: finals[0]!, attempt: 1 }])).toEqual([result('"a"')])
    // another attempt of the same id has none
    expect(await b.stateBackend.getOutcomes([{ id: finals[1]!, attempt: 2 }])).toEqual([null])
    // the state backend's removals take the row's outcome too; the status stays the orchestrator's
    await b.stateBackend.deleteInvocations([finals[0]!])
    expect(await b.stateBackend.getOutcomes([{ id: finals[0]!, attempt: 1 }])).toEqual([null])
    expect((await b.orchestrator.getStates([finals[0]!]))[0]).toMatchObject({ status: 'success' })
    await b.stateBackend.purge()
    expect(await b.stateBackend.getOutcomes(finals.map((id) => ({ id, attempt: 1 })))).toEqual([
      null,
      null,
      null,
    ])
    expect((await b.steps.readFinal([finals[1]!]))[0]!.outcome).toBeNull()
  })

  it('a final outcome longer than the row takes is an outcomes row, read and notified as before', async () => {
    const b = await pgt.backend()
    const schema = pgt.currentSchema()
    const reqs = await routed(b, 2)
    await b.steps.claimQueued('r1', 2, true)
    const small = result(JSON.stringify('s'.repeat(FINAL_OUTCOME_IN_ROW_MAX_CHARS - 2)))
    const large = result(JSON.stringify('l'.repeat(FINAL_OUTCOME_IN_ROW_MAX_CHARS)))
    expect(small.value.length).toBe(FINAL_OUTCOME_IN_ROW_MAX_CHARS)
    const seen: unknown[] = []
    const stop = await b.orchestrator.subscribeFinal((ids, outcomes) =>
      seen.push(...ids.map((id) => outcomes?.get(id))),
    )
    await b.steps.finish(
      'r1',
      [
        { id: reqs[0]!.id, attempt: 1, to: 'success', outcome: small },
        { id: reqs[1]!.id, attempt: 1, to: 'success', outcome: large },
      ],
      0,
    )
    const inTable = await admin().query(`SELECT id FROM "${schema}".outcomes WHERE app_id = 'app'`)
    expect(inTable.rows.map((r) => r.id)).toEqual([reqs[1]!.id])
    const refs = reqs.map((r) => ({ id: r.id, attempt: 1 }))
    expect(await b.stateBackend.getOutcomes(refs)).toEqual([small, large])
    expect((await b.steps.readFinal(reqs.map((r) => r.id))).map((f) => f.outcome)).toEqual([small, large])
    // both notified with their outcome (each under the inline limit)
    for (let i = 0; i < 50 && seen.length < 2; i++) await sleep(20)
    await stop()
    expect(seen).toEqual(expect.arrayContaining([small, large]))
  })

  it("purging the orchestrator alone keeps the outcomes finish kept in the invocations' rows", async () => {
    const b = await pgt.backend()
    const reqs = await routed(b, 2)
    await b.steps.claimQueued('r1', 2, true)
    const out = await b.steps.finish(
      'r1',
      reqs.map((r, i) => ({ id: r.id, attempt: 1, to: 'success' as const, outcome: result(`"${i}"`) })),
      0,
    )
    expect(out.outcomes.every((o) => o.ok)).toBe(true)
    await b.orchestrator.purge()
    expect(await b.orchestrator.getStates(reqs.map((r) => r.id))).toEqual([null, null])
    expect(await b.stateBackend.getOutcomes(reqs.map((r) => ({ id: r.id, attempt: 1 })))).toEqual([
      result('"0"'),
      result('"1"'),
    ])
  })

  it('readFinal reads the outcome of the final attempt only; non-final and unknown ids have none', async () => {
    const b = await pgt.backend()
    const id = await reclaimed(b)
    const [other] = await routed(b, 1)
    // the presumed-dead runner of attempt 1 writes late, where no reader looks
    await b.stateBackend.setOutcomes([{ id, attempt: 1, outcome: result('"stale"') }])
    expect(await b.steps.readFinal([id])).toEqual([
      { state: expect.objectContaining({ status: 'pending', attempt: 2 }), outcome: null },
    ])
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r2', attempt: 2 }])
    await b.steps.finish('r2', [{ id, attempt: 2, to: 'success', outcome: result('"fresh"') }], 0)
    const read = await b.steps.readFinal([id, other!.id, 'missing'])
    expect(read[0]).toEqual({
      state: expect.objectContaining({ status: 'success', attempt: 2 }),
      outcome: result('"fresh"'),
    })
    expect(read[1]).toEqual({
      state: expect.objectContaining({ status: 'registered', attempt: 0 }),
      outcome: null,
    })
    expect(read[2]).toEqual({ state: null, outcome: null })
  })

  it('finish queues accepted RETRYs after their delay and claims the next ids in the same step', async () => {
    const b = await pgt.backend()
    const reqs = await routed(b, 4)
    const [a, c, d, e] = reqs.map((r) => r.id)
    const first = await b.steps.claimQueued('r1', 2)
    expect(first.claimed.map((x) => x.state.id)).toEqual([a, c])
    await b.orchestrator.transition([
      { id: a!, to: 'running', actor: 'r1', attempt: 1 },
      { id: c!, to: 'running', actor: 'r1', attempt: 1 },
    ])
    const out = await b.steps.finish(
      'r1',
      [
        { id: a!, attempt: 1, to: 'retry', delayMs: 150 },
        { id: c!, attempt: 7, to: 'retry', delayMs: 0 }, // stale: not queued
      ],
      5,
    )
    expect(out.outcomes.map((o) => (o.ok ? o.state.status : o.reason))).toEqual(['retry', 'stale'])
    expect(out.next.sawQueued).toBe(true)
    expect(out.next.claimed.map((x) => [x.state.id, x.state.attempt, x.record?.id])).toEqual([
      [d, 1, d],
      [e, 1, e],
    ])
    expect(await b.broker.count()).toBe(0) // a's retry is not due yet; c was not queued
    await sleep(200)
    const again = await b.steps.claimQueued('r1', 5)
    expect(again.claimed.map((x) => [x.state.id, x.state.attempt])).toEqual([[a, 2]])
    expect((await b.orchestrator.getStates([a!]))[0]).toMatchObject({ retries: 1, attempt: 2 })
  })

  it('route stores records, registers and queues the ids not reused, in one step', async () => {
    const b = await pgt.backend()
    const [x, y] = requests(2, { registrationKey: 'k' })
    const out = await b.steps.route([recordFor(x!), recordFor(y!)], [x!, y!])
    expect(out).toEqual([
      { id: x!.id, reused: false },
      { id: y!.id, reused: true, existingId: x!.id },
    ])
    expect(await b.broker.retrieve(10)).toEqual([x!.id])
    expect(await b.stateBackend.getInvocations([x!.id])).toEqual([recordFor(x!)])
    expect((await b.orchestrator.getStates([x!.id]))[0]).toMatchObject({ status: 'registered', attempt: 0 })
  })

  it("finish frees a running key's slot for the claim in the same step", async () => {
    const b = await pgt.backend()
    const reqs = requests(2, { runningKey: 'one-at-a-time', reroute: true })
    await b.steps.route(reqs.map(recordFor), reqs)
    const first = await b.steps.claimQueued('r1', 1)
    const id = first.claimed[0]!.state.id
    await b.orchestrator.transition([{ id, to: 'running', actor: 'r1', attempt: 1 }])
    const out = await b.steps.finish('r1', [{ id, attempt: 1, to: 'success', outcome: result('1') }], 1)
    expect(out.outcomes[0]!.ok).toBe(true)
    expect(out.next.claimed.map((c) => c.state.id)).toEqual([reqs[1]!.id])
    expect(out.next.unclaimed).toEqual([])
  })

  it('each step is one round trip', async () => {
    const b = await pgt.backend()
    const reqs = requests(50)
    const ids = reqs.map((r) => r.id)
    const steps: [string, () => Promise<unknown>][] = [
      ['route', () => b.steps.route(reqs.map(recordFor), reqs)],
      ['claimQueued', () => b.steps.claimQueued('w', 25)],
      ['claimIds', () => b.steps.claimIds('w', ids.slice(25))],
      [
        'transition → running',
        () => b.orchestrator.transition(ids.map((id) => ({ id, to: 'running', actor: 'w', attempt: 1 }))),
      ],
      [
        'finish',
        () =>
          b.steps.finish(
            'w',
            ids.map((id) => ({ id, attempt: 1, to: 'success' as const, outcome: result('1') })),
            10,
          ),
      ],
      ['readFinal', () => b.steps.readFinal(ids)],
    ]
    for (const [name, run] of steps) {
      const { statements } = await countStatements(run)
      expect(statements, name).toBe(1)
    }
    const read = await b.steps.readFinal(ids)
    expect(read.every((r) => r.state?.status === 'success' && r.outcome?.value === '1')).toBe(true)
  })

  it('the claim steps asked to start are still one round trip each', async () => {
    const b = await pgt.backend()
    const reqs = await routed(b, 30)
    const ids = reqs.map((r) => r.id)
    const first = await countStatements(() => b.steps.claimQueued('w', 10, true))
    expect(first.statements).toBe(1)
    const started = await b.orchestrator.getStates(ids.slice(0, 10))
    expect(started.every((st) => st?.status === 'running' && st.owner === 'w' && st.attempt === 1)).toBe(true)
    const finished = await countStatements(() =>
      b.steps.finish(
        'w',
        ids.slice(0, 10).map((id) => ({ id, attempt: 1, to: 'success' as const, outcome: result('1') })),
        20,
        true,
      ),
    )
    expect(finished.statements).toBe(1)
    const states = await b.orchestrator.getStates(ids)
    expect(states.map((st) => st?.status)).toEqual([
      ...Array(10).fill('success'),
      ...Array(20).fill('running'),
    ])
    const hist = await b.orchestrator.getHistory(ids[29]!)
    expect(hist.map((h) => [h.status, h.owner, h.actor, h.attempt])).toEqual([
      ['registered', null, expect.anything(), 0],
      ['pending', 'w', 'w', 1],
      ['running', 'w', 'w', 1],
    ])
    expect(hist[2]!.timestamp).toBeGreaterThanOrEqual(hist[1]!.timestamp)
  })
})
