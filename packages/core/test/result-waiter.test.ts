import { describe, expect, it } from 'vitest'
import { MAX_INLINE_OUTCOME_CHARS, type Orchestrator } from '../src/index.js'
import { ResultWaiter } from '../src/orchestration/result-waiter.js'

describe('ResultWaiter outcomes that come with a final status', () => {
  it('keeps small ones for result() and never large ones (a runner process ends everything it runs)', () => {
    const waiter = new ResultWaiter({} as Orchestrator, 1000)
    const small = { kind: 'result' as const, value: '42' }
    const large = { kind: 'result' as const, value: `"${'x'.repeat(MAX_INLINE_OUTCOME_CHARS)}"` }
    waiter.markFinal(
      ['a', 'b'],
      new Map([
        ['a', small],
        ['b', large],
      ]),
    )
    expect(waiter.knownOutcome('a')).toEqual(small)
    expect(waiter.knownOutcome('b')).toBeUndefined()
    expect(waiter.isKnownFinal('b')).toBe(true)
  })
})
