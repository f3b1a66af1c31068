import { ACTIVE_STATUSES, AVAILABLE_FOR_RUN_STATUSES, STATUSES } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { CLAIM_TARGETS, RULES, rulesFor } from '../src/status-rules.js'

describe('status rules as SQL parameters', () => {
  it('rulesFor(targets) keeps exactly the accepted transitions into those targets, with their modes', () => {
    const some = rulesFor(['success', 'retry'])
    expect(some.keys.length).toBeGreaterThan(0)
    expect(some.keys.length).toBeLessThan(RULES.keys.length / 4)
    expect(some.keys.every((k) => k.startsWith('success|') || k.startsWith('retry|'))).toBe(true)
    const expected = RULES.keys.flatMap((k, i) =>
      k.startsWith('success|') || k.startsWith('retry|') ? [[k, RULES.modes[i]]] : [],
    )
    expect(some.keys.map((k, i) => [k, some.modes[i]])).toEqual(expected)
    // cached, whatever the order or repeats of the targets
    expect(rulesFor(['retry', 'success', 'retry'])).toBe(some)
    // all targets: all rules
    expect(rulesFor(STATUSES).keys).toEqual(RULES.keys)
  })

  it('a claim only writes its targets, and takes only ids that are not active (the active table relies on it)', () => {
    const claim = rulesFor(CLAIM_TARGETS)
    expect(new Set(claim.keys.map((k) => k.split('|')[0]))).toEqual(new Set(CLAIM_TARGETS))
    expect(AVAILABLE_FOR_RUN_STATUSES.filter((s) => ACTIVE_STATUSES.includes(s))).toEqual([])
  })
})
