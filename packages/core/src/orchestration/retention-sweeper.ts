import type { NencRuntime } from '../runtime.js'
import { type RetentionReport, sweepFinished } from './retention.js'

/**
 * The retention part of a runner's atomic service: when `retention.finishedMs` is set, at most
 * once per `retention.intervalMs` (timed by this runner), one bounded sweep of
 * `retention.maxPagesPerSweep` pages, so the slot is never held for long; a sweep that ran out of
 * pages is continued by the next one. Only the runner whose slot is open calls it, so two
 * runners never sweep at the same time.
 */
export class RetentionSweeper {
  private lastSweepAt = Number.NEGATIVE_INFINITY
  /** Where the last sweep ran out of pages; the next one goes on from there, then starts over. */
  private resume: string | null = null

  /** The sweep's report, or null when retention is off or the last sweep is too recent. */
  async runIfDue(rt: NencRuntime, actor: string, now: number): Promise<RetentionReport | null> {
    const cfg = rt.config
    const finishedMs = cfg.value<number | null>('retention.finishedMs')
    if (finishedMs === null) return null
    if (now - this.lastSweepAt < cfg.value<number>('retention.intervalMs')) return null
    this.lastSweepAt = now
    const cursor = this.resume
    // A failed sweep starts over next time rather than retrying a position that may be the cause.
    this.resume = null
    const report = await sweepFinished(rt, {
      cutoff: now - finishedMs,
      pageSize: cfg.value<number>('retention.pageSize'),
      maxPages: cfg.value<number>('retention.maxPagesPerSweep'),
      cursor,
    })
    this.resume = report.next
    if (report.removed.length || report.kept) {
      rt.logger.info(
        {
          runnerId: actor,
          removed: report.removed.length,
          kept: report.kept,
          complete: report.next === null,
        },
        'retention: removed finished invocations',
      )
    }
    return report
  }
}
