/**
 * How long after its server timestamp a final transition may still become visible to a reader
 * (write latency under load). Finished documents within this window are re-read by each poll
 * and de-duplicated here.
 */
export const FINALS_LAG_MS = 1000

/**
 * The sliding window of the polling final-status feed. Final transitions stamp `finishedAt`
 * with server time, so the window is kept in server time and is immune to clock skew between
 * hosts. Each poll reads the documents finished at or after {@link lowerBound}; `absorb` reports
 * the ids not reported before. The window trails the newest timestamp seen by
 * {@link FINALS_LAG_MS}, and closes up to it once nothing new arrived for that long, so an idle
 * app polls an empty range.
 */
export class FinalsWindow {
  private lower: number | null = null
  private newest = 0
  private advancedAt = 0
  private readonly seen = new Map<string, number>()

  constructor(private readonly lagMs = FINALS_LAG_MS) {}

  /** False until {@link seed}: the first poll only learns where "now" is. */
  get seeded(): boolean {
    return this.lower !== null
  }

  /**
   * Starts the window at the newest final transition already stored (null: none yet), minus the
   * lag, so transitions still in flight when the feed starts are reported (some twice, which is
   * harmless) rather than missed.
   */
  seed(newestFinishedAt: number | null, now: number): void {
    this.newest = newestFinishedAt ?? 0
    this.advancedAt = now
    this.lower = newestFinishedAt === null ? 0 : newestFinishedAt - this.lagMs
  }

  /** Server-time ms from which the next poll reads (inclusive). */
  get lowerBound(): number {
    return this.lower ?? 0
  }

  /** Takes one poll's documents; returns the ids to report. `now` is the local clock. */
  absorb(docs: readonly { id: string; finishedAt: number }[], now: number): string[] {
    const fresh: string[] = []
    for (const d of docs) {
      if (this.seen.has(d.id)) continue
      this.seen.set(d.id, d.finishedAt)
      fresh.push(d.id)
      if (d.finishedAt > this.newest) {
        this.newest = d.finishedAt
        this.advancedAt = now
      }
    }
    const settled = now - this.advancedAt > this.lagMs
    const lower = settled ? this.newest + 1 : this.newest - this.lagMs
    this.lower = Math.max(this.lower ?? 0, lower)
    for (const [id, t] of this.seen) if (t < this.lower) this.seen.delete(id)
    return fresh
  }
}
