import type { NencRuntime } from '../runtime.js'
import { type RetentionReport, sweepFinished } from './retention.js'

/**
 * The retention part of a runner's atomic service: when `retention.finishedMs` is set, at most
 * once per `retention.intervalMs` (timed by this runner), one bounded sweep of
 * `retention.maxPagesPerSweep` pages, so the slot is never held for long. Only the runner whose
 * slot is open calls it, so two runners never sweep at the same time.
 */
export class RetentionSweeper {
  private lastSweepAt = Number.NEGATIVE_INFINITY

  /** The sweep's report, or null when retention is off or the last sweep is too recent. */
  async runIfDue(rt: NencRuntime, actor: string, now: number): Promise<RetentionReport | null> {
    const cfg = rt.config
    const finishedMs = cfg.value<number | null>('retention.finishedMs')
    if (finishedMs === null) return null
    if (now - this.lastSweepAt < cfg.value<number>('retention.intervalMs')) return null
    this.lastSweepAt = now
    const report = await sweepFinished(rt, {
      cutoff: now - finishedMs,
      pageSize: cfg.value<number>('retention.pageSize'),
      maxPages: cfg.value<number>('retention.maxPagesPerSweep'),
    })
    if (report.removed.length || report.kept) {
      rt.logger.info(
        { runnerId: actor, removed: report.removed.length, kept: report.kept, complete: report.complete },
        'retention: removed finished invocations',
      )
    }
    return report
  }
}
