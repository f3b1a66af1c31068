import { describe, expect, it } from 'vitest'
import { cronSchedule } from '../../src/index.js'

const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString())
const at = (s: string) => new Date(s).getTime()

// Europe/Madrid: 2026-03-29 02:00 CET → 03:00 CEST (spring forward); 2026-10-25 03:00 CEST → 02:00 CET (fall back).
describe('cron in a time zone across DST (croner)', () => {
  it('spring forward: a fixed time inside the gap fires once, at the first minute after it', () => {
    const s = cronSchedule('30 2 * * *', 'Europe/Madrid')
    expect(iso(s.timesBetween(at('2026-03-27T12:00:00Z'), at('2026-03-30T12:00:00Z'), 10))).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:30 does not exist that day
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ])
  })

  it('spring forward: an hourly pattern follows real time (the skipped hour does not fire)', () => {
    const s = cronSchedule('0 * * * *', 'Europe/Madrid')
    expect(iso(s.timesBetween(at('2026-03-28T23:30:00Z'), at('2026-03-29T02:30:00Z'), 10))).toEqual([
      '2026-03-29T00:00:00.000Z', // 01:00 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-29T02:00:00.000Z', // 04:00 CEST
    ])
  })

  it('fall back: a fixed time in the repeated hour fires once, at its first occurrence', () => {
    const s = cronSchedule('30 2 * * *', 'Europe/Madrid')
    expect(iso(s.timesBetween(at('2026-10-24T12:00:00Z'), at('2026-10-26T12:00:00Z'), 10))).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST (the second 02:30, CET, does not fire)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ])
  })

  it('fall back: an hourly pattern fires in both copies of the repeated hour', () => {
    const s = cronSchedule('0 * * * *', 'Europe/Madrid')
    expect(iso(s.timesBetween(at('2026-10-24T23:30:00Z'), at('2026-10-25T02:30:00Z'), 10))).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T02:00:00.000Z', // 03:00 CET
    ])
  })

  it('reads the expression in the zone: 09:00 Madrid is 08:00 UTC in winter, 07:00 UTC in summer', () => {
    const s = cronSchedule('0 9 * * *', 'Europe/Madrid')
    expect(iso([s.nextAfter(at('2026-01-10T00:00:00Z'))!, s.nextAfter(at('2026-07-10T00:00:00Z'))!])).toEqual(
      ['2026-01-10T08:00:00.000Z', '2026-07-10T07:00:00.000Z'],
    )
  })
})
