import type { RegisterRequest } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import type { InvocationDoc } from '../src/documents.js'
import type { Step } from '../src/guarded-write.js'
import { newInvocationDoc } from '../src/queries/invocations.js'
import { planRegistration } from '../src/register-invocations.js'
import { type Aftermath, claimJob, runningKeyOf, transitionJob, waves } from '../src/status-jobs.js'

const req = (id: string, over: Partial<RegisterRequest> = {}): RegisterRequest => ({
  id,
  taskId: 'app.t',
  callId: `app.t:${id}`,
  actor: 'client',
  registrationKey: null,
  runningKey: null,
  rerouteOnConcurrencyControl: false,
  ...over,
})
const doc = (
  id: string,
  over: Partial<InvocationDoc> = {},
  r: Partial<RegisterRequest> = {},
): InvocationDoc => ({
  ...newInvocationDoc(req(id, r), 1, 'op0'),
  ...over,
})
const aftermath = (): Aftermath => ({ finals: [], releaseEdges: [] })
type Write<R> = Extract<Step<R>, { write: unknown }>
const asWrite = <R>(s: Step<R>): Write<R> => {
  if ('done' in s) throw new Error(`expected a write, got done: ${JSON.stringify(s.done)}`)
  return s
}

describe('transition jobs', () => {
  it('unknown ids are not found; rejected transitions finish without a write', () => {
    const job = transitionJob({ id: 'x', to: 'running', actor: 'r' }, aftermath())
    expect(job.step(null, 'op')).toEqual({ done: { ok: false, reason: 'not_found' } })
    expect(job.step(doc('x'), 'op')).toMatchObject({ done: { ok: false, reason: 'invalid_transition' } })
  })

  it('an applied final transition is announced and releases edges when marked', () => {
    const a = aftermath()
    const step = asWrite(
      transitionJob({ id: 'x', to: 'success', actor: 'r' }, a).step(
        doc('x', { status: 'running', owner: 'r', blk: true }),
        'op',
      ),
    )
    expect(step.write.update.$push.history.op).toBe('op')
    expect(step.applied()).toMatchObject({ ok: true, state: { status: 'success', owner: null } })
    expect(a).toEqual({ finals: ['x'], releaseEdges: ['x'] })
  })

  it('a fenced transition: its guarded write matches on the attempt it names', () => {
    const job = transitionJob({ id: 'x', to: 'running', actor: 'r', attempt: 1 }, aftermath())
    const step = asWrite(job.step(doc('x', { status: 'pending', owner: 'r', attempt: 1 }), 'op'))
    expect(step.write.filter).toMatchObject({ _id: 'x', status: 'pending', owner: 'r', attempt: 1 })
    expect(step.applied()).toMatchObject({ ok: true, state: { status: 'running', attempt: 1 } })
  })

  it('a fenced transition that lost its race to a new claim is stale on the re-read document, nothing written', () => {
    const a = aftermath()
    const job = transitionJob({ id: 'x', to: 'success', actor: 'r1', attempt: 1 }, a)
    const first = asWrite(job.step(doc('x', { status: 'running', owner: 'r1', attempt: 1 }), 'op1'))
    first.lost?.()
    // Meanwhile: recovered, rerouted and claimed again by r1 (attempt 2), even in the same ms.
    const reclaimed = doc('x', { status: 'pending', owner: 'r1', attempt: 2 })
    expect(job.step(reclaimed, 'op2')).toEqual({
      done: {
        ok: false,
        reason: 'stale',
        current: expect.objectContaining({ status: 'pending', owner: 'r1', attempt: 2 }),
        attempt: 1,
      },
    })
    expect(a).toEqual({ finals: [], releaseEdges: [] })
  })

  it('a PENDING whose slot is taken elsewhere is retried without taking the slot', () => {
    const job = transitionJob({ id: 'x', to: 'pending', actor: 'r' }, aftermath())
    const d = doc('x', {}, { runningKey: 'k' })
    const first = asWrite(job.step(d, 'op1'))
    expect(first.write.update.$set.activeKey).toBe('k')
    first.duplicate!()
    expect(asWrite(job.step(d, 'op2')).write.update.$set).not.toHaveProperty('activeKey')
  })
})

describe('claim jobs', () => {
  it('claims a free invocation: PENDING owned by the runner', () => {
    const step = asWrite(claimJob('x', 'r1', aftermath()).step(doc('x'), 'op'))
    expect(step.write.filter).toEqual({
      _id: 'x',
      status: 'registered',
      owner: null,
      attempt: 0,
      retries: 0,
      ts: 1,
    })
    expect(step.applied()).toMatchObject({
      id: 'x',
      outcome: 'claimed',
      state: { status: 'pending', owner: 'r1', attempt: 1 },
    })
  })

  it('claiming a RETRY starts the next attempt, compared against the one read', () => {
    const step = asWrite(
      claimJob('x', 'r2', aftermath()).step(doc('x', { status: 'retry', attempt: 1 }), 'op'),
    )
    expect(step.write.filter).toMatchObject({ status: 'retry', attempt: 1 })
    expect(step.write.update.$set).toMatchObject({ status: 'pending', owner: 'r2', attempt: 2 })
    expect(step.write.update.$push.history).toMatchObject({ status: 'pending', attempt: 2 })
    expect(step.applied()).toMatchObject({ outcome: 'claimed', state: { attempt: 2 } })
  })

  it('skips unknown and unavailable ids without writing', () => {
    const job = claimJob('x', 'r1', aftermath())
    expect(job.step(null, 'op')).toEqual({ done: { id: 'x', outcome: 'skipped' } })
    expect(job.step(doc('x', { status: 'pending', owner: 'r0' }), 'op')).toEqual({
      done: { id: 'x', outcome: 'skipped' },
    })
  })

  it('a duplicate key on the slot turns the next step into CONCURRENCY_CONTROLLED_FINAL (announced as final)', () => {
    const a = aftermath()
    const job = claimJob('x', 'r1', a)
    const d = doc('x', {}, { runningKey: 'k' })
    asWrite(job.step(d, 'op1')).duplicate!()
    const second = asWrite(job.step(d, 'op2'))
    expect(second.write.update.$set).toEqual({
      status: 'concurrency_controlled_final',
      owner: null,
      ts: expect.any(Number),
    })
    expect(second.write.update.$currentDate).toEqual({ finishedAt: true })
    expect(second.applied()).toEqual({ id: 'x', outcome: 'controlled_final' })
    expect(a.finals).toEqual(['x'])
  })

  it('with reroute the blocked claim becomes CONCURRENCY_CONTROLLED; a blocked RETRY is deferred', () => {
    const job = claimJob('x', 'r1', aftermath())
    const d = doc('x', {}, { runningKey: 'k', rerouteOnConcurrencyControl: true })
    asWrite(job.step(d, 'op1')).duplicate!()
    expect(asWrite(job.step(d, 'op2')).applied()).toEqual({ id: 'x', outcome: 'controlled' })

    const retryJob = claimJob('y', 'r1', aftermath())
    const retry = doc('y', { status: 'retry', retries: 1 }, { runningKey: 'k' })
    asWrite(retryJob.step(retry, 'op1')).duplicate!()
    expect(retryJob.step(retry, 'op2')).toEqual({ done: { id: 'y', outcome: 'deferred' } })
  })

  it('losing the race while moving to a controlled status re-checks the slot from scratch', () => {
    const job = claimJob('x', 'r1', aftermath())
    const d = doc('x', {}, { runningKey: 'k' })
    asWrite(job.step(d, 'op1')).duplicate!()
    const controlled = asWrite(job.step(d, 'op2'))
    controlled.lost!()
    // The fresh document is still REGISTERED: the next step tries PENDING (the slot may be free now).
    expect(asWrite(job.step(d, 'op3')).write.update.$set.status).toBe('pending')
  })
})

describe('waves', () => {
  it('one wave when every id and running key is distinct', () => {
    expect(waves(['a', 'b', 'c'])).toEqual([[0, 1, 2]])
  })

  it('a repeated id goes to a later wave, keeping request order', () => {
    expect(waves(['a', 'b', 'a', 'a', 'c'])).toEqual([[0, 1, 4], [2], [3]])
  })

  it('claims of ids sharing a running key are sequential, so the first in the batch wins', () => {
    const docs = new Map([
      ['a', doc('a', {}, { runningKey: 'k' })],
      ['b', doc('b', {}, { runningKey: 'k' })],
      ['c', doc('c')],
      ['d', doc('d', {}, { runningKey: 'k2' })],
    ])
    expect(waves(['a', 'b', 'c', 'd'], runningKeyOf(docs))).toEqual([[0, 2, 3], [1]])
  })
})

describe('planRegistration', () => {
  it('inserts distinct requests; repeated ids and shared registration keys follow the first', () => {
    const plan = planRegistration([
      req('a', { registrationKey: 'k' }),
      req('b', { registrationKey: 'k' }),
      req('c'),
      req('a'),
      req('d', { registrationKey: 'j' }),
      req('e', { registrationKey: 'k' }),
    ])
    expect(plan).toEqual({
      insert: [0, 2, 4],
      repeatedIds: [3],
      followers: [
        { index: 1, leader: 0 },
        { index: 5, leader: 0 },
      ],
    })
  })
})
