import { describe, expect, it } from 'vitest'
import {
  CANCELABLE_STATUSES,
  checkTransition,
  FINAL_STATUSES,
  isValidStatusPath,
  STATUS_TABLE,
  STATUSES,
} from '../src/index.js'

describe('the status table', () => {
  it('has 15 statuses, and only the final ones have no way out', () => {
    expect(STATUSES).toHaveLength(15)
    for (const s of STATUSES) expect(STATUS_TABLE[s].allowedTargets.length === 0).toBe(STATUS_TABLE[s].final)
    expect([...FINAL_STATUSES].sort()).toEqual([
      'canceled',
      'concurrency_controlled_final',
      'failed',
      'success',
    ])
  })

  it('reaches CANCELED only from the statuses held before a run (nenc extension)', () => {
    expect([...CANCELABLE_STATUSES].sort()).toEqual([
      'concurrency_controlled',
      'pending',
      'registered',
      'rerouted',
      'retry',
    ])
    for (const s of ['running', 'paused', 'resumed', 'success', 'failed'] as const)
      expect(STATUS_TABLE[s].allowedTargets).not.toContain('canceled')
  })

  it('lets PAUSED and RESUMED go to RUNNING_RECOVERY (nenc extension)', () => {
    expect(STATUS_TABLE.paused.allowedTargets).toContain('running_recovery')
    expect(STATUS_TABLE.resumed.allowedTargets).toContain('running_recovery')
  })
})

describe('checkTransition()', () => {
  const rec = (status: (typeof STATUSES)[number], owner: string | null = null, attempt = 1) => ({
    status,
    owner,
    timestamp: 1,
    attempt,
  })

  it('creates only REGISTERED invocations', () => {
    expect(checkTransition(null, 'registered', 'a', 5)).toEqual({
      ok: true,
      next: { status: 'registered', owner: null, timestamp: 5, attempt: 0 },
    })
    expect(checkTransition(null, 'pending', 'a', 5)).toMatchObject({
      ok: false,
      reason: 'invalid_transition',
    })
  })

  it('acquires ownership on PENDING and keeps it through RUNNING', () => {
    expect(checkTransition(rec('registered'), 'pending', 'r1', 2)).toMatchObject({
      ok: true,
      next: { owner: 'r1' },
    })
    expect(checkTransition(rec('pending', 'r1'), 'running', 'r1', 2)).toMatchObject({
      ok: true,
      next: { owner: 'r1' },
    })
    expect(checkTransition(rec('running', 'r1'), 'success', 'r1', 2)).toMatchObject({
      ok: true,
      next: { owner: null },
    })
  })

  it('rejects a non-owner leaving an owned status, unless the target overrides ownership', () => {
    expect(checkTransition(rec('running', 'r1'), 'success', 'r2', 2)).toMatchObject({
      ok: false,
      reason: 'ownership',
    })
    expect(checkTransition(rec('running', 'r1'), 'running_recovery', 'r2', 2)).toMatchObject({
      ok: true,
      next: { owner: null },
    })
  })

  it('rejects a transition the table does not allow, listing the allowed ones', () => {
    expect(checkTransition(rec('success'), 'running', 'r1', 2)).toEqual({
      ok: false,
      reason: 'invalid_transition',
      allowed: [],
    })
    expect(checkTransition(rec('retry'), 'concurrency_controlled', 'r1', 2)).toEqual({
      ok: false,
      reason: 'invalid_transition',
      allowed: ['pending', 'canceled'],
    })
  })

  it('lets anyone cancel a PENDING claim (overrides ownership), never a RUNNING invocation', () => {
    expect(checkTransition(rec('pending', 'r1'), 'canceled', 'caller', 2)).toMatchObject({
      ok: true,
      next: { status: 'canceled', owner: null },
    })
    expect(checkTransition(rec('running', 'r1'), 'canceled', 'r1', 2)).toMatchObject({
      ok: false,
      reason: 'invalid_transition',
    })
  })
})

describe('isValidStatusPath()', () => {
  it('accepts paths through the machine from REGISTERED and points at the first bad step', () => {
    expect(isValidStatusPath(['registered', 'pending', 'running', 'success'])).toEqual({ ok: true })
    expect(isValidStatusPath(['pending'])).toEqual({ ok: false, at: 0 })
    expect(isValidStatusPath(['registered', 'pending', 'success'])).toEqual({ ok: false, at: 2 })
  })
})

describe('docs/concepts/invocation-lifecycle.md', () => {
  it('embeds the current status table', async () => {
    const { readFileSync } = await import('node:fs')
    const { statusTableMarkdown } = await import('../src/index.js')
    const page = readFileSync(
      new URL('../../../docs/concepts/invocation-lifecycle.md', import.meta.url),
      'utf8',
    )
    const embedded = page.split('<!-- status-table:start -->\n')[1]?.split('\n<!-- status-table:end -->')[0]
    // Compare cells, not spacing: the formatter aligns Markdown tables.
    const cells = (md: string) =>
      md
        .split('\n')
        .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
        .map((line) =>
          line
            .split('|')
            .slice(1, -1)
            .map((c) => c.trim()),
        )
    expect(cells(embedded ?? ''), 'regenerate the table with statusTableMarkdown()').toEqual(
      cells(statusTableMarkdown()),
    )
  })
})

describe('attempt fencing in checkTransition', () => {
  const rec = (status: (typeof STATUSES)[number], owner: string | null, attempt: number) => ({
    status,
    owner,
    timestamp: 1,
    attempt,
  })

  it('starts attempt 0 at registration and the next attempt at each claim', () => {
    expect(checkTransition(null, 'registered', null, 1)).toMatchObject({ ok: true, next: { attempt: 0 } })
    expect(checkTransition(rec('registered', null, 0), 'pending', 'r1', 2)).toMatchObject({
      ok: true,
      next: { attempt: 1 },
    })
    expect(checkTransition(rec('retry', null, 1), 'pending', 'r2', 2)).toMatchObject({
      ok: true,
      next: { attempt: 2, owner: 'r2' },
    })
    expect(checkTransition(rec('pending', 'r1', 3), 'running', 'r1', 2)).toMatchObject({
      ok: true,
      next: { attempt: 3 },
    })
  })

  it('refuses a write naming another attempt as stale, before any other check', () => {
    expect(checkTransition(rec('running', 'r1', 2), 'success', 'r1', 2, 1)).toEqual({
      ok: false,
      reason: 'stale',
      attempt: 1,
    })
    // The zombie's status is also invalid here; stale still wins, so it learns why.
    expect(checkTransition(rec('success', null, 2), 'success', 'r1', 2, 1)).toMatchObject({ reason: 'stale' })
    expect(checkTransition(rec('running', 'r1', 2), 'success', 'r1', 2, 2)).toMatchObject({ ok: true })
    // No attempt named (recovery, routing): no fencing.
    expect(checkTransition(rec('running', 'r1', 2), 'running_recovery', 'rec', 2)).toMatchObject({ ok: true })
  })
})
