import { InvalidArgumentError } from 'commander'

/** A whole number ≥ 1 (commander argument parser). */
export function parseCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1.')
  return n
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
}
const DURATION = /^(\d+)(ms|s|m|h|d|w)$/
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * `--since`: a duration back from `now` (`90s`, `15m`, `2h`, `7d`, `1w`, `500ms`) or an ISO time
 * (`2026-12-03`, `2026-12-03T18:00Z`; without a zone it is local time, as `Date` reads it) → ms
 * epoch. Anything else is a usage error naming both forms.
 */
export function parseSince(value: string, now = Date.now()): number {
  const v = value.trim()
  const d = DURATION.exec(v)
  if (d) return now - Number(d[1]) * DURATION_UNITS[d[2]!]!
  const t = ISO_TIME.test(v) ? Date.parse(v) : Number.NaN
  if (Number.isNaN(t))
    throw new InvalidArgumentError(
      `expected a duration back from now (a whole number and one of ms, s, m, h, d, w: 15m, 2h, 7d) or an ISO time (2026-12-03T18:00Z), got "${value}".`,
    )
  return t
}
