import { describe, expect, it } from 'vitest'
import { admin, countStatements, requests, usePostgres } from './helpers.js'

describe('transition', () => {
  const pgt = usePostgres()

  it('a batch applies what the rules allow and writes nothing for the rest', async () => {
    const b = await pgt.backend()
    const reqs = requests(4)
    await b.orchestrator.register(reqs)
    const [a, c, d, e] = reqs.map((r) => r.id)
    await b.orchestrator.claim([a!, c!], 'owner')
    const before = await Promise.all(reqs.map((r) => b.orchestrator.getHistory(r.id)))
    const out = await b.orchestrator.transition([
      { id: a!, to: 'running', actor: 'owner' }, // allowed
      { id: c!, to: 'running', actor: 'intruder' }, // ownership
      { id: d!, to: 'success', actor: 'owner' }, // invalid from registered
      { id: e!, to: 'pending', actor: null }, // pending needs an owner
      { id: 'missing', to: 'running', actor: 'owner' },
    ])
    expect(out[0]).toMatchObject({ ok: true, state: { id: a, status: 'running', owner: 'owner' } })
    expect(out[1]).toMatchObject({
      ok: false,
      reason: 'ownership',
      current: { status: 'pending', owner: 'owner' },
    })
    expect(out[2]).toMatchObject({
      ok: false,
      reason: 'invalid_transition',
      current: { status: 'registered' },
    })
    expect(out[3]).toMatchObject({ ok: false, reason: 'ownership' })
    expect(out[4]).toEqual({ ok: false, reason: 'not_found' })
    const after = await Promise.all(reqs.map((r) => b.orchestrator.getHistory(r.id)))
    expect(after.map((h) => h.length)).toEqual(before.map((h, i) => h.length + (i === 0 ? 1 : 0)))
    expect((await b.orchestrator.getStates([c!, d!, e!])).map((s) => s!.status)).toEqual([
      'pending',
      'registered',
      'registered',
    ])
  })

  it('a request naming an old attempt is stale, checked first, and writes nothing', async () => {
    const b = await pgt.backend()
    const [r] = requests(1)
    await b.orchestrator.register([r!])
    const [claimed] = await b.orchestrator.claim([r!.id], 'w')
    expect(claimed).toMatchObject({ outcome: 'claimed', state: { attempt: 1 } })
    const history = await b.orchestrator.getHistory(r!.id)
    expect(history.map((h) => h.attempt)).toEqual([0, 1])
    const out = await b.orchestrator.transition([
      { id: r!.id, to: 'running', actor: 'w', attempt: 0 }, // allowed but stale
      { id: r!.id, to: 'success', actor: 'intruder', attempt: 3 }, // invalid and not owner, but stale first
    ])
    expect(out[0]).toMatchObject({
      ok: false,
      reason: 'stale',
      attempt: 0,
      current: { status: 'pending', attempt: 1 },
    })
    expect(out[1]).toMatchObject({ ok: false, reason: 'stale', attempt: 3 })
    expect(await b.orchestrator.getHistory(r!.id)).toEqual(history)
    const ok = await b.orchestrator.transition([{ id: r!.id, to: 'running', actor: 'w', attempt: 1 }])
    expect(ok[0]).toMatchObject({ ok: true, state: { status: 'running', attempt: 1 } })
    // no attempt named: no fence (recovery); entering PENDING again starts attempt 2
    await b.orchestrator.transition([
      { id: r!.id, to: 'running_recovery', actor: null },
      { id: r!.id, to: 'rerouted', actor: null },
      { id: r!.id, to: 'pending', actor: 'w2' },
    ])
    expect((await b.orchestrator.getHistory(r!.id)).map((h) => [h.status, h.attempt])).toEqual([
      ['registered', 0],
      ['pending', 1],
      ['running', 1],
      ['running_recovery', 1],
      ['rerouted', 1],
      ['pending', 2],
    ])
  })

  it('a repeated id in one batch is applied in request order', async () => {
    const b = await pgt.backend()
    const [r] = requests(1)
    await b.orchestrator.register([r!])
    await b.orchestrator.claim([r!.id], 'w')
    const out = await b.orchestrator.transition([
      { id: r!.id, to: 'running', actor: 'w' },
      { id: r!.id, to: 'retry', actor: 'w' },
      { id: r!.id, to: 'pending', actor: 'w' },
      { id: r!.id, to: 'running', actor: 'w' },
    ])
    expect(out.map((o) => o.ok)).toEqual([true, true, true, true])
    expect(out[3]).toMatchObject({ state: { status: 'running', retries: 1 } })
    expect((await b.orchestrator.getHistory(r!.id)).map((h) => h.status)).toEqual([
      'registered',
      'pending',
      'running',
      'retry',
      'pending',
      'running',
    ])
  })

  it('a final status releases its blocking edges in the same statement', async () => {
    const b = await pgt.backend()
    const [child, parent, other] = requests(3)
    await b.orchestrator.register([child!, parent!, other!])
    await b.orchestrator.addWaiting(parent!.id, [child!.id, other!.id])
    await b.orchestrator.claim([child!.id], 'w')
    await b.orchestrator.transition([{ id: child!.id, to: 'running', actor: 'w' }])
    await b.orchestrator.transition([{ id: child!.id, to: 'failed', actor: 'w' }])
    const edges = await admin().query(
      `SELECT waiter_id, waited_id FROM "${pgt.currentSchema()}".waits ORDER BY waited_id`,
    )
    expect(edges.rows).toEqual([{ waiter_id: parent!.id, waited_id: other!.id }])
  })

  it('every batch method of the runner is one round trip at most, whatever the batch size', async () => {
    const b = await pgt.backend()
    const reqs = requests(3000)
    const ids = reqs.map((r) => r.id)
    const records = reqs.map((r) => ({
      id: r.id,
      taskId: r.taskId,
      taskName: 't',
      callId: r.callId,
      args: '[]',
      parentId: null,
      workflow: { id: r.id, type: r.taskId, parentWorkflowId: null },
      createdAt: Date.now(),
    }))
    const steps: [string, () => Promise<unknown>][] = [
      ['upsertInvocations', () => b.stateBackend.upsertInvocations(records)],
      ['register', () => b.orchestrator.register(reqs)],
      ['route', () => b.broker.route(ids)],
      ['retrieve', () => b.broker.retrieve(3000)],
      ['claim', () => b.orchestrator.claim(ids, 'w')],
      ['getInvocations', () => b.stateBackend.getInvocations(ids)],
      [
        'transition → running',
        () => b.orchestrator.transition(ids.map((id) => ({ id, to: 'running', actor: 'w' }))),
      ],
      [
        'setOutcomes',
        () =>
          b.stateBackend.setOutcomes(
            ids.map((id) => ({ id, attempt: 1, outcome: { kind: 'result', value: '1' } })),
          ),
      ],
      [
        'transition → success',
        () => b.orchestrator.transition(ids.map((id) => ({ id, to: 'success', actor: 'w' }))),
      ],
      ['getOutcomes', () => b.stateBackend.getOutcomes(ids.map((id) => ({ id, attempt: 1 })))],
      ['getStates', () => b.orchestrator.getStates(ids)],
    ]
    for (const [name, run] of steps) {
      const { statements } = await countStatements(run)
      expect(statements, name).toBe(1)
    }
    expect(
      (await b.stateBackend.getOutcomes(ids.slice(0, 2).map((id) => ({ id, attempt: 1 })))).map(
        (o) => o?.kind,
      ),
    ).toEqual(['result', 'result'])
    expect(await b.orchestrator.listInvocations({ statuses: ['success'], limit: 5000 })).toHaveLength(3000)
  })

  it('20 concurrent transitions from separate batches: one wins, the others see the new status', async () => {
    const b = await pgt.backend()
    const [r] = requests(1)
    await b.orchestrator.register([r!])
    await b.orchestrator.claim([r!.id], 'w')
    await b.orchestrator.transition([{ id: r!.id, to: 'running', actor: 'w' }])
    const targets = ['success', 'failed', 'retry', 'paused'] as const
    const outs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        b.orchestrator.transition([{ id: r!.id, to: targets[i % 4]!, actor: 'w' }]),
      ),
    )
    const wins = outs.flat().filter((o) => o.ok)
    // whichever lands first, none of the four targets is allowed from it: exactly one wins
    expect(wins).toHaveLength(1)
    for (const o of outs.flat()) if (!o.ok) expect(o.reason).toBe('invalid_transition')
    expect(await b.orchestrator.getHistory(r!.id)).toHaveLength(4)
  })
})
