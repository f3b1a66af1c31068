import { FINAL_STATUSES, type RegisterRequest, STATUS_TABLE, STATUSES } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import type { InvocationDoc } from '../src/documents.js'
import {
  claimDecision,
  FINALS_FEED_PIPELINE,
  finishedSinceFilter,
  guardFilter,
  listQuery,
  newInvocationDoc,
  pendingForRecoveryFilter,
  planTransition,
  registeredByKeyFilter,
  runningForRecoveryFilter,
} from '../src/queries/invocations.js'

const request = (over: Partial<RegisterRequest> = {}): RegisterRequest => ({
  id: 'inv-1',
  taskId: 'app.t',
  callId: 'app.t:abc',
  actor: 'client-1',
  registrationKey: null,
  runningKey: null,
  rerouteOnConcurrencyControl: false,
  ...over,
})

const doc = (over: Partial<InvocationDoc> = {}): InvocationDoc => ({
  ...newInvocationDoc(request(), 1000, 'op0'),
  ...over,
})

describe('register', () => {
  it('builds a REGISTERED document with no owner, no retries and the first history entry', () => {
    expect(newInvocationDoc(request({ registrationKey: 'rk', runningKey: 'k' }), 1234, 'op-a')).toEqual({
      _id: 'inv-1',
      taskId: 'app.t',
      callId: 'app.t:abc',
      status: 'registered',
      owner: null,
      ts: 1234,
      retries: 0,
      attempt: 0,
      createdAt: 1234,
      registrationKey: 'rk',
      runningKey: 'k',
      reroute: false,
      history: [{ status: 'registered', owner: null, actor: 'client-1', ts: 1234, attempt: 0, op: 'op-a' }],
    })
  })

  it('finds the REGISTERED holders of registration keys', () => {
    expect(registeredByKeyFilter(['a', 'b'])).toEqual({
      status: 'registered',
      registrationKey: { $in: ['a', 'b'], $type: 'string' },
    })
  })
})

describe('planTransition: the guarded update of one status change', () => {
  it('REGISTERED → PENDING: compares status, owner, attempt, retries and status time; sets owner, status, time, next attempt; pushes history', () => {
    const plan = planTransition(doc(), 'pending', 'runner-1', 2000, 'op-1')
    expect(plan).toEqual({
      ok: true,
      write: {
        filter: { _id: 'inv-1', status: 'registered', owner: null, attempt: 0, retries: 0, ts: 1000 },
        update: {
          $set: { status: 'pending', owner: 'runner-1', ts: 2000, attempt: 1 },
          $push: {
            history: {
              status: 'pending',
              owner: 'runner-1',
              actor: 'runner-1',
              ts: 2000,
              attempt: 1,
              op: 'op-1',
            },
          },
        },
      },
      next: {
        id: 'inv-1',
        taskId: 'app.t',
        status: 'pending',
        owner: 'runner-1',
        timestamp: 2000,
        retries: 0,
        attempt: 1,
      },
      final: false,
      releasesEdges: false,
      leavesKey: null,
    })
  })

  it('entering PENDING takes the running-concurrency slot; leaving the active statuses releases it', () => {
    const d = doc({ runningKey: 'k' })
    const take = planTransition(d, 'pending', 'r', 2000, 'op')
    expect(take.ok && take.write.update.$set).toEqual({
      status: 'pending',
      owner: 'r',
      ts: 2000,
      attempt: 1,
      activeKey: 'k',
    })
    const noTake = planTransition(d, 'pending', 'r', 2000, 'op', false)
    expect(noTake.ok && noTake.write.update.$set).not.toHaveProperty('activeKey')

    const running = doc({ runningKey: 'k', status: 'running', owner: 'r', activeKey: 'k' })
    const pause = planTransition(running, 'paused', 'r', 3, 'op')
    expect(pause.ok && pause.write.update).not.toHaveProperty('$unset')
    expect(pause.ok && pause.write.update.$set).not.toHaveProperty('activeKey')
    const retry = planTransition(running, 'retry', 'r', 3, 'op')
    expect(retry.ok && retry.write.update.$unset).toEqual({ activeKey: '' })
    const recover = planTransition(running, 'running_recovery', 'someone-else', 3, 'op')
    expect(recover.ok && recover.write.update.$unset).toEqual({ activeKey: '' })
  })

  it('a writer whose clock is behind never writes a status time before the current one', () => {
    const plan = planTransition(doc({ status: 'running', owner: 'r', ts: 9000 }), 'success', 'r', 4000, 'op')
    expect(plan).toMatchObject({
      ok: true,
      next: { timestamp: 9000 },
      write: { filter: { ts: 9000 }, update: { $set: { ts: 9000 }, $push: { history: { ts: 9000 } } } },
    })
  })

  it('RUNNING → RETRY increments retries in the same update and reports the new count', () => {
    const plan = planTransition(doc({ status: 'running', owner: 'r', retries: 2 }), 'retry', 'r', 5000, 'op')
    expect(plan.ok).toBe(true)
    if (!plan.ok) return
    expect(plan.write.update.$inc).toEqual({ retries: 1 })
    expect(plan.write.filter).toEqual({
      _id: 'inv-1',
      status: 'running',
      owner: 'r',
      attempt: 0,
      retries: 2,
      ts: 1000,
    })
    expect(plan.next).toMatchObject({ status: 'retry', owner: null, retries: 3, attempt: 0 })
    expect(plan.write.update.$set).not.toHaveProperty('attempt')
  })

  it('final statuses stamp finishedAt with server time and compare the blocking mark', () => {
    const plain = planTransition(doc({ status: 'running', owner: 'r' }), 'success', 'r', 9, 'op')
    expect(plain).toMatchObject({
      ok: true,
      final: true,
      releasesEdges: false,
      write: {
        filter: {
          _id: 'inv-1',
          status: 'running',
          owner: 'r',
          attempt: 0,
          retries: 0,
          ts: 1000,
          blk: { $ne: true },
        },
        update: { $currentDate: { finishedAt: true } },
      },
    })
    const marked = planTransition(doc({ status: 'running', owner: 'r', blk: true }), 'failed', 'r', 9, 'op')
    expect(marked).toMatchObject({ ok: true, releasesEdges: true, write: { filter: { blk: true } } })
    const controlled = planTransition(doc(), 'concurrency_controlled_final', 'r', 9, 'op')
    expect(controlled).toMatchObject({ ok: true, final: true })
  })

  it('non-final transitions do not compare the blocking mark (marking never races them)', () => {
    const plan = planTransition(doc({ status: 'pending', owner: 'r', blk: true }), 'running', 'r', 9, 'op')
    expect(plan.ok && plan.write.filter).toEqual({
      _id: 'inv-1',
      status: 'pending',
      owner: 'r',
      attempt: 0,
      retries: 0,
      ts: 1000,
    })
  })

  it('every entry into PENDING starts the next attempt; every other transition keeps it', () => {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        if (!STATUS_TABLE[from].allowedTargets.includes(to)) continue
        const d = doc({ status: from, owner: STATUS_TABLE[from].requiresOwnership ? 'r' : null, attempt: 4 })
        const plan = planTransition(d, to, 'r', 2000, 'op')
        if (!plan.ok) throw new Error(`${from} → ${to} rejected`)
        const expected = to === 'pending' ? 5 : 4
        expect(plan.next.attempt, `${from} → ${to}`).toBe(expected)
        expect(plan.write.update.$push.history.attempt, `${from} → ${to}`).toBe(expected)
        expect(plan.write.filter.attempt, `${from} → ${to}`).toBe(4)
        if (to === 'pending') expect(plan.write.update.$set.attempt).toBe(5)
        else expect(plan.write.update.$set).not.toHaveProperty('attempt')
      }
    }
  })

  it('a fenced transition naming another attempt is stale before any other check, and writes nothing', () => {
    const running = doc({ status: 'running', owner: 'r', attempt: 2 })
    expect(planTransition(running, 'success', 'r', 9, 'op', true, 1)).toEqual({
      ok: false,
      reason: 'stale',
      current: expect.objectContaining({ id: 'inv-1', status: 'running', owner: 'r', attempt: 2 }),
      attempt: 1,
    })
    // Stale comes first: an invalid target or a foreign actor still reports stale.
    expect(planTransition(running, 'pending', 'r', 9, 'op', true, 3)).toMatchObject({
      ok: false,
      reason: 'stale',
      attempt: 3,
    })
    expect(planTransition(running, 'success', 'intruder', 9, 'op', true, 1)).toMatchObject({
      ok: false,
      reason: 'stale',
    })
    // The current attempt, or no attempt at all, is not fenced.
    const current = planTransition(running, 'success', 'r', 9, 'op', true, 2)
    expect(current).toMatchObject({ ok: true, next: { status: 'success', attempt: 2 } })
    expect(current.ok && current.write.filter.attempt).toBe(2)
    expect(planTransition(running, 'success', 'r', 9, 'op', true, null)).toMatchObject({ ok: true })
    expect(planTransition(running, 'success', 'r', 9, 'op')).toMatchObject({ ok: true })
  })

  it('uses core’s rules: every disallowed target is rejected with the allowed list and writes nothing', () => {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const d = doc({ status: from, owner: STATUS_TABLE[from].requiresOwnership ? 'r' : null })
        const plan = planTransition(d, to, 'r', 1, 'op')
        if (STATUS_TABLE[from].allowedTargets.includes(to)) expect(plan.ok, `${from} → ${to}`).toBe(true)
        else {
          expect(plan).toMatchObject({ ok: false, reason: 'invalid_transition' })
          if (!plan.ok && plan.reason === 'invalid_transition') {
            expect(plan.allowed).toEqual(STATUS_TABLE[from].allowedTargets)
            expect(plan.current).toMatchObject({ id: 'inv-1', status: from })
          }
        }
      }
    }
  })

  it('only the owner may leave an owned status, unless the target overrides ownership', () => {
    const running = doc({ status: 'running', owner: 'owner' })
    expect(planTransition(running, 'success', 'intruder', 1, 'op')).toMatchObject({
      ok: false,
      reason: 'ownership',
      current: { status: 'running', owner: 'owner' },
    })
    expect(planTransition(running, 'running_recovery', 'recoverer', 1, 'op')).toMatchObject({
      ok: true,
      next: { status: 'running_recovery', owner: null },
    })
    expect(planTransition(doc(), 'pending', null, 1, 'op')).toMatchObject({ ok: false, reason: 'ownership' })
  })
})

describe('claimDecision (memory’s claim rules)', () => {
  it('skips unknown ids and statuses not available for run', () => {
    expect(claimDecision(null, false)).toEqual({ action: 'skip' })
    for (const s of ['pending', 'running', 'success', 'concurrency_controlled'] as const) {
      expect(claimDecision(doc({ status: s }), false)).toEqual({ action: 'skip' })
    }
  })

  it('a free slot claims; a held slot drops, reroutes or defers by status and task option', () => {
    for (const s of ['registered', 'rerouted', 'retry'] as const) {
      expect(claimDecision(doc({ status: s }), false)).toEqual({ action: 'transition', to: 'pending' })
    }
    expect(claimDecision(doc({ status: 'registered' }), true)).toEqual({
      action: 'transition',
      to: 'concurrency_controlled_final',
    })
    expect(claimDecision(doc({ status: 'registered', reroute: true }), true)).toEqual({
      action: 'transition',
      to: 'concurrency_controlled',
    })
    // REROUTED may not enter CONCURRENCY_CONTROLLED_FINAL: it is controlled even without reroute.
    expect(claimDecision(doc({ status: 'rerouted' }), true)).toEqual({
      action: 'transition',
      to: 'concurrency_controlled',
    })
    expect(claimDecision(doc({ status: 'retry', reroute: true }), true)).toEqual({ action: 'defer' })
  })
})

describe('reads', () => {
  it('listInvocations: newest first, by task and statuses, default page of 100', () => {
    expect(listQuery({})).toEqual({ filter: {}, sort: { createdAt: -1, _id: -1 }, skip: 0, limit: 100 })
    expect(listQuery({ taskId: 'app.t', statuses: ['pending', 'running'], limit: 5, offset: 10 })).toEqual({
      filter: { taskId: 'app.t', status: { $in: ['pending', 'running'] } },
      sort: { createdAt: -1, _id: -1 },
      skip: 10,
      limit: 5,
    })
  })

  it('recovery: old PENDING by status time; owned statuses whose owner is not alive', () => {
    expect(pendingForRecoveryFilter(500)).toEqual({ status: 'pending', ts: { $lt: 500 } })
    expect(runningForRecoveryFilter(['r1', 'r2'])).toEqual({
      status: { $in: ['running', 'paused', 'resumed'] },
      owner: { $nin: ['r1', 'r2'] },
    })
  })

  it('final-status feed: updates that set a final status (change streams) or a finishedAt window (polling)', () => {
    expect(FINALS_FEED_PIPELINE).toEqual([
      {
        $match: {
          operationType: 'update',
          'updateDescription.updatedFields.status': { $in: [...FINAL_STATUSES] },
        },
      },
      { $project: { documentKey: 1 } },
    ])
    expect(finishedSinceFilter(1_700_000_000_000)).toEqual({
      finishedAt: { $gte: new Date(1_700_000_000_000) },
    })
  })

  it('guardFilter compares the fields the transition was validated on', () => {
    expect(guardFilter(doc({ status: 'paused', owner: 'r', retries: 1, attempt: 3 }), false)).toEqual({
      _id: 'inv-1',
      status: 'paused',
      owner: 'r',
      attempt: 3,
      retries: 1,
      ts: 1000,
    })
  })
})
