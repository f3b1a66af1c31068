import type { RegisterRequest, TransitionOutcome } from '@nenc/core'
import type { Collection } from 'mongodb'
import { describe, expect, it } from 'vitest'
import type { InvocationDoc } from '../src/documents.js'
import type { Step } from '../src/guarded-write.js'
import { recheckParked, releaseFreedKeys, releaserOf, withReleased } from '../src/parking.js'
import { newInvocationDoc, planTransition } from '../src/queries/invocations.js'
import {
  freeKeys,
  heldKeysFilter,
  PARKED_INDEX,
  ParkSequence,
  parkedOnFilter,
  SEQ_PER_MS,
  unparkOldest,
  unparkOwnFilter,
} from '../src/queries/parking.js'
import { type Aftermath, claimJob, transitionJob, waveAftermath } from '../src/status-jobs.js'

const req = (id: string, over: Partial<RegisterRequest> = {}): RegisterRequest => ({
  id,
  taskId: 'app.t',
  callId: `app.t:${id}`,
  actor: 'client',
  registrationKey: null,
  runningKey: 'k',
  rerouteOnConcurrencyControl: true,
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
const asWrite = <R>(s: Step<R>): Extract<Step<R>, { write: unknown }> => {
  if ('done' in s) throw new Error(`expected a write, got done: ${JSON.stringify(s.done)}`)
  return s
}
const state = (id: string) => ({
  id,
  taskId: 'app.t',
  status: 'success' as const,
  owner: null,
  timestamp: 1,
  retries: 0,
  attempt: 1,
})

describe('park sequence', () => {
  it('is time-ordered and strictly increasing, also within one millisecond and when the clock steps back', () => {
    const seq = new ParkSequence()
    const a = seq.next(1000)
    const b = seq.next(1000)
    const c = seq.next(999)
    const d = seq.next(2000)
    expect(a).toBe(1000 * SEQ_PER_MS)
    expect([b, c]).toEqual([a + 1, a + 2])
    expect(d).toBe(2000 * SEQ_PER_MS)
    expect(Number.isSafeInteger(seq.next(Date.now() + 100 * 365 * 86_400_000))).toBe(true)
  })
})

describe('parked-list queries', () => {
  it('the parked list of a key: CONCURRENCY_CONTROLLED, that key, parked; oldest first; served by a partial index', () => {
    expect(parkedOnFilter('k')).toEqual({
      runningKey: 'k',
      parked: { $type: 'number' },
      status: 'concurrency_controlled',
    })
    expect(unparkOldest('k')).toEqual({
      filter: parkedOnFilter('k'),
      sort: { parked: 1, _id: 1 },
      update: { $unset: { parked: '' } },
    })
    // The index's partial filter is implied by the query's, and its key gives the sort.
    expect(PARKED_INDEX).toEqual({
      name: 'nenc_parked',
      key: { runningKey: 1, parked: 1, _id: 1 },
      partialFilterExpression: { parked: { $type: 'number' } },
    })
  })

  it('a claimer takes back only its own park, by sequence', () => {
    expect(unparkOwnFilter('x', 42)).toEqual({ _id: 'x', status: 'concurrency_controlled', parked: 42 })
  })

  it('free keys: those no slot holder names, once each', () => {
    expect(heldKeysFilter(['a', 'b'])).toEqual({ activeKey: { $in: ['a', 'b'] } })
    expect(freeKeys(['a', 'b', 'a', 'c'], [{ activeKey: 'b' }])).toEqual(['a', 'c'])
    expect(freeKeys(['a'], [])).toEqual(['a'])
  })
})

describe('planTransition and the parked list', () => {
  it('entering CONCURRENCY_CONTROLLED with a sequence parks in the same update', () => {
    const plan = planTransition(doc('x'), 'concurrency_controlled', 'r', 2000, 'op', true, null, 7)
    expect(plan.ok && plan.write.update.$set).toEqual({
      status: 'concurrency_controlled',
      owner: null,
      ts: 2000,
      parked: 7,
    })
    // Without a sequence (or without a running key) nothing is parked.
    const plain = planTransition(doc('x'), 'concurrency_controlled', 'r', 2000, 'op')
    expect(plain.ok && plain.write.update.$set).not.toHaveProperty('parked')
    const unkeyed = planTransition(
      doc('x', {}, { runningKey: null }),
      'concurrency_controlled',
      'r',
      2,
      'op',
      true,
      null,
      7,
    )
    expect(unkeyed.ok && unkeyed.write.update.$set).not.toHaveProperty('parked')
  })

  it('leaving CONCURRENCY_CONTROLLED drops the park (no stale entries on the list)', () => {
    const parked = doc('x', { status: 'concurrency_controlled', parked: 7 })
    const plan = planTransition(parked, 'rerouted', 'r', 2000, 'op')
    expect(plan.ok && plan.write.update.$unset).toEqual({ parked: '' })
    const released = doc('x', { status: 'concurrency_controlled' })
    const again = planTransition(released, 'rerouted', 'r', 2000, 'op')
    expect(again.ok && again.write.update).not.toHaveProperty('$unset')
  })

  it('leaving the active statuses reports the key given up; active to active and unkeyed do not', () => {
    const running = doc('x', { status: 'running', owner: 'r', activeKey: 'k' })
    expect(planTransition(running, 'success', 'r', 2, 'op')).toMatchObject({ ok: true, leavesKey: 'k' })
    expect(planTransition(running, 'retry', 'r', 2, 'op')).toMatchObject({ ok: true, leavesKey: 'k' })
    expect(planTransition(running, 'paused', 'r', 2, 'op')).toMatchObject({ ok: true, leavesKey: null })
    const unkeyed = doc('y', { status: 'running', owner: 'r' }, { runningKey: null })
    expect(planTransition(unkeyed, 'success', 'r', 2, 'op')).toMatchObject({ ok: true, leavesKey: null })
  })
})

describe('jobs and the wave aftermath', () => {
  it('a blocked claim parks with the next sequence and reports the park; a later one parks behind it', () => {
    const wave = waveAftermath()
    const seq = new ParkSequence()
    const d = doc('b')
    const b = claimJob('b', 'r1', aftermath(), wave, 1, seq)
    asWrite(b.step(d, 'op1')).duplicate!()
    const bPark = asWrite(b.step(d, 'op2'))
    const c = claimJob('c', 'r1', aftermath(), wave, 2, seq)
    asWrite(c.step(doc('c'), 'op3')).duplicate!()
    const cPark = asWrite(c.step(doc('c'), 'op4'))
    expect(bPark.write.update.$set.parked).toBeLessThan(cPark.write.update.$set.parked)
    expect(wave.parked).toEqual([])
    expect(bPark.applied()).toEqual({ id: 'b', outcome: 'controlled' })
    expect(cPark.applied()).toEqual({ id: 'c', outcome: 'controlled' })
    expect(wave.parked).toEqual([
      { at: 1, id: 'b', key: 'k', parked: bPark.write.update.$set.parked },
      { at: 2, id: 'c', key: 'k', parked: cPark.write.update.$set.parked },
    ])
  })

  it('a blocked claim without reroute (CONCURRENCY_CONTROLLED_FINAL) is not parked', () => {
    const wave = waveAftermath()
    const job = claimJob('x', 'r1', aftermath(), wave, 0)
    const d = doc('x', {}, { rerouteOnConcurrencyControl: false })
    asWrite(job.step(d, 'op1')).duplicate!()
    const step = asWrite(job.step(d, 'op2'))
    expect(step.write.update.$set).not.toHaveProperty('parked')
    step.applied()
    expect(wave.parked).toEqual([])
  })

  it('an applied transition that leaves the active statuses reports its key and request index', () => {
    const wave = waveAftermath()
    const running = doc('a', { status: 'running', owner: 'r1', attempt: 1, activeKey: 'k' })
    const pause = asWrite(
      transitionJob({ id: 'a', to: 'paused', actor: 'r1' }, aftermath(), wave, 0).step(running, 'o'),
    )
    pause.applied()
    expect(wave.freed).toEqual([])
    const end = asWrite(
      transitionJob({ id: 'a', to: 'success', actor: 'r1' }, aftermath(), wave, 3).step(running, 'o'),
    )
    expect(wave.freed).toEqual([])
    end.applied()
    expect(wave.freed).toEqual([{ at: 3, key: 'k' }])
  })

  it('the release is reported by the last request of the wave that gave the key up', () => {
    const freed = [
      { at: 0, key: 'k' },
      { at: 2, key: 'j' },
      { at: 4, key: 'k' },
    ]
    expect(releaserOf(freed, 'k')).toBe(4)
    expect(releaserOf(freed, 'j')).toBe(2)
    const ok: TransitionOutcome = { ok: true, state: state('a') }
    expect(withReleased(ok, 'b')).toEqual({ ok: true, state: state('a'), released: ['b'] })
    expect(withReleased({ ok: false, reason: 'not_found' }, 'b')).toEqual({ ok: false, reason: 'not_found' })
  })
})

/**
 * A recording stand-in for the driver's collection: it answers the commands with canned
 * documents and records them, to check which commands the release path sends. It is not a
 * MongoDB (the behaviour against a server is the conformance suite's, with NENC_MONGO_URL).
 */
function recorder(answers: {
  holders?: { activeKey: string }[]
  oldest?: Record<string, string>
  own?: number
}) {
  const calls: string[] = []
  const coll = {
    find: (filter: unknown) => {
      calls.push(`find ${JSON.stringify(filter)}`)
      return { toArray: async () => answers.holders ?? [] }
    },
    findOneAndUpdate: async (filter: { runningKey: string }) => {
      calls.push(`unpark ${filter.runningKey}`)
      const id = answers.oldest?.[filter.runningKey]
      return id ? { _id: id } : null
    },
    updateOne: async (filter: { _id: string }) => {
      calls.push(`unpark own ${filter._id}`)
      return { modifiedCount: answers.own ?? 0 }
    },
  }
  return { coll: coll as unknown as Collection<InvocationDoc>, calls }
}

describe('release and re-check commands', () => {
  it('no key given up, no park: not a single command (the path without running keys)', async () => {
    const { coll, calls } = recorder({})
    const results: TransitionOutcome[] = [{ ok: true, state: state('a') }]
    await releaseFreedKeys(coll, [], results)
    expect(await recheckParked(coll, [])).toEqual([])
    expect(calls).toEqual([])
    expect(results).toEqual([{ ok: true, state: state('a') }])
  })

  it('free keys release their oldest parked invocation; a key still held releases nothing', async () => {
    const { coll, calls } = recorder({ holders: [{ activeKey: 'j' }], oldest: { k: 'b' } })
    const results: TransitionOutcome[] = [
      { ok: true, state: state('a') },
      { ok: true, state: state('x') },
      { ok: true, state: state('y') },
    ]
    await releaseFreedKeys(
      coll,
      [
        { at: 0, key: 'k' },
        { at: 1, key: 'j' },
        { at: 2, key: 'm' },
      ],
      results,
    )
    expect(calls).toEqual([`find ${JSON.stringify(heldKeysFilter(['k', 'j', 'm']))}`, 'unpark k', 'unpark m'])
    expect(results).toEqual([
      { ok: true, state: state('a'), released: ['b'] },
      { ok: true, state: state('x') },
      { ok: true, state: state('y') },
    ])
  })

  it('a park whose key is free by the time it is checked is taken back by its claimer, if still its own', async () => {
    const parks = [
      { at: 0, id: 'b', key: 'k', parked: 1 },
      { at: 1, id: 'c', key: 'j', parked: 2 },
    ]
    const mine = recorder({ holders: [{ activeKey: 'j' }], own: 1 })
    expect(await recheckParked(mine.coll, parks)).toEqual([parks[0]])
    expect(mine.calls).toEqual([`find ${JSON.stringify(heldKeysFilter(['k', 'j']))}`, 'unpark own b'])
    // A releaser took it first: it reports it, the claimer leaves it alone.
    const taken = recorder({ holders: [], own: 0 })
    expect(await recheckParked(taken.coll, parks)).toEqual([])
  })
})
