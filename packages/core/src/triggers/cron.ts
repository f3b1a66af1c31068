import { Cron } from 'croner'

/**
 * Cron schedules through croner (zero dependencies, IANA time zones through Intl). Its DST
 * handling, checked by the tests on the spring-forward and fall-back days: a fixed local time
 * that does not exist (02:30 on spring-forward day) fires once at the first valid minute after
 * the gap (03:00); a fixed local time that occurs twice (02:30 on fall-back day) fires once, at
 * its first occurrence; interval patterns (`0 * * * *`) follow real elapsed time, so the repeated
 * hour fires twice and the skipped one not at all.
 */
export interface CronSchedule {
  /** Scheduled times in `(after, upTo]`, oldest first, at most `limit`. */
  timesBetween(after: number, upTo: number, limit: number): number[]
  /** The first scheduled time after `after`, or null when the pattern never matches again. */
  nextAfter(after: number): number | null
}

/** Returns the reason `timezone` is not an IANA time zone this runtime knows, or null. */
export function timeZoneProblem(timezone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
    return null
  } catch {
    return `unknown time zone ${JSON.stringify(timezone)} (use an IANA name such as "Europe/Madrid" or "UTC")`
  }
}

/** Parses a five-field expression; throws croner's own error (with its reason) when invalid. */
export function cronSchedule(expr: string, timezone: string): CronSchedule {
  const cron = new Cron(expr, { timezone, paused: true, mode: '5-part' })
  return {
    timesBetween(after, upTo, limit) {
      const out: number[] = []
      let from = after
      while (out.length < limit) {
        const next = cron.nextRun(new Date(from))
        if (!next || next.getTime() > upTo) break
        out.push(next.getTime())
        from = next.getTime()
      }
      return out
    },
    nextAfter(after) {
      return cron.nextRun(new Date(after))?.getTime() ?? null
    },
  }
}

/** The reason `expr` is not a valid five-field cron expression, or null. */
export function cronProblem(expr: string, timezone: string): string | null {
  if (typeof expr !== 'string' || expr.trim().split(/\s+/).length !== 5)
    return `cron expression ${JSON.stringify(expr)} must have five fields (minute hour day month weekday)`
  try {
    const s = cronSchedule(expr, timezone)
    if (s.nextAfter(Date.now()) === null) return `cron expression ${JSON.stringify(expr)} never matches`
    return null
  } catch (err) {
    return `invalid cron expression ${JSON.stringify(expr)}: ${(err as Error).message}`
  }
}
