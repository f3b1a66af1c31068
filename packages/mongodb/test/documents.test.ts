import { CorruptDataError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { decodeInvocation, hasOp, historyOf, stateOf } from '../src/documents.js'
import { newInvocationDoc } from '../src/queries/invocations.js'
import { decodeRunner } from '../src/queries/runners.js'
import { decodeOutcome, decodeRecord, decodeRunnerContext } from '../src/queries/state.js'
import { decodeTriggers, decodeValidCondition } from '../src/queries/triggers.js'

const good = () =>
  newInvocationDoc(
    {
      id: 'i1',
      taskId: 'app.t',
      callId: 'app.t:x',
      actor: 'c',
      registrationKey: null,
      runningKey: 'k',
      rerouteOnConcurrencyControl: true,
    },
    10,
    'op0',
  )

const corruptAt = (fn: () => unknown, location: string) => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CorruptDataError)
    expect((err as CorruptDataError).backend).toBe('mongodb')
    expect((err as CorruptDataError).location).toBe(location)
    return
  }
  throw new Error('expected CorruptDataError')
}

describe('invocation documents', () => {
  it('decodes a stored document to the public state and history (write tokens stripped)', () => {
    const d = decodeInvocation(good(), 'c/i1')
    expect(stateOf(d)).toEqual({
      id: 'i1',
      taskId: 'app.t',
      status: 'registered',
      owner: null,
      timestamp: 10,
      retries: 0,
      attempt: 0,
    })
    expect(historyOf(d, 'c/i1')).toEqual([
      { status: 'registered', owner: null, actor: 'c', timestamp: 10, attempt: 0 },
    ])
    expect(hasOp(d, 'op0')).toBe(true)
    expect(hasOp(d, 'other')).toBe(false)
    expect(hasOp(null, 'op0')).toBe(false)
  })

  it('a document read without its history is accepted when asked', () => {
    const { history: _h, ...rest } = good()
    expect(() => decodeInvocation(rest, 'c/i1', false)).not.toThrow()
    corruptAt(() => decodeInvocation(rest, 'c/i1'), 'c/i1')
  })

  it('rejects foreign or damaged documents with CorruptDataError naming where they are', () => {
    const cases: Record<string, unknown>[] = [
      { ...good(), status: 'done' },
      { ...good(), owner: 5 },
      { ...good(), retries: -1 },
      { ...good(), retries: 1.5 },
      { ...good(), attempt: undefined },
      { ...good(), attempt: -1 },
      { ...good(), attempt: '1' },
      { ...good(), history: [{ status: 'registered', owner: null, actor: null, ts: 1 }] },
      { ...good(), history: [{ status: 'registered', owner: null, actor: null, ts: 1, attempt: 0.5 }] },
      { ...good(), ts: 'yesterday' },
      { ...good(), reroute: 'yes' },
      { ...good(), runningKey: {} },
      { ...good(), _id: 42 },
      { ...good(), history: [{ status: 'registered', owner: null, actor: null }] },
      { ...good(), history: 'none' },
    ]
    for (const c of cases) corruptAt(() => decodeInvocation(c, 'coll/x'), 'coll/x')
    corruptAt(() => decodeInvocation(null, 'coll/x'), 'coll/x')
  })
})

describe('other documents', () => {
  it('records: retention-only documents read as no record; damaged ones are corrupt', () => {
    expect(decodeRecord({ _id: 'i', finishedAt: new Date(0) }, 'r/i')).toBeNull()
    corruptAt(() => decodeRecord({ _id: 'i', taskId: 'app.t' }, 'r/i'), 'r/i')
  })

  it('outcomes: {kind, value} or nothing; anything else is corrupt', () => {
    expect(decodeOutcome({}, 'o/i/1')).toBeNull()
    expect(decodeOutcome({ outcome: { kind: 'error', value: '{}' } }, 'o/i/1')).toEqual({
      kind: 'error',
      value: '{}',
    })
    corruptAt(() => decodeOutcome({ outcome: { kind: 'maybe', value: '1' } }, 'o/i/1'), 'o/i/1')
    corruptAt(() => decodeOutcome({ outcome: { kind: 'result', value: 1 } }, 'o/i/1'), 'o/i/1')
  })

  it('runners, runner contexts, triggers and valid conditions', () => {
    expect(
      decodeRunner({ _id: 'r', createdAt: 1, lastHeartbeat: 2, canRunAtomicService: false }, 'x'),
    ).toEqual({
      runnerId: 'r',
      createdAt: 1,
      lastHeartbeat: 2,
      canRunAtomicService: false,
    })
    corruptAt(() => decodeRunner({ _id: 'r', createdAt: 1 }, 'runners/r'), 'runners/r')
    corruptAt(() => decodeRunnerContext({ _id: 'r', pid: 'x' } as never, 'ctx/r'), 'ctx/r')
    corruptAt(() => decodeTriggers({ triggers: [{ id: 't' }] } as never, 'tr/a'), 'tr/a')
    corruptAt(() => decodeTriggers({} as never, 'tr/a'), 'tr/a')
    corruptAt(() => decodeValidCondition({ _id: 'v' }, 'vc/v'), 'vc/v')
  })
})
