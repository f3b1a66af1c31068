/** The shortest delay between polls: an eighth of the configured interval, at least 5 ms. */
export const minPollDelay = (maxMs: number): number => Math.max(5, Math.floor(maxMs / 8))

/**
 * Backoff of the polling loop. A poll that finds something after one that did not (new work
 * appeared) polls again soon, to catch the rest of a burst; otherwise the delay doubles up to
 * `maxMs`, so an idle or steadily busy queue costs one query per `maxMs` and no wake-up is later
 * than `maxMs` after its write (plus one query).
 */
export function nextPollDelay(current: number, hit: boolean, previousHit: boolean, maxMs: number): number {
  if (hit && !previousHit) return minPollDelay(maxMs)
  return Math.min(Math.max(current, minPollDelay(maxMs)) * 2, maxMs)
}

/**
 * Calls `check` repeatedly with {@link nextPollDelay} between calls, never two at once. A failed
 * check (server briefly unreachable) counts as a miss: the loop keeps going, and the component's
 * own operations report the outage to their callers.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private stopped = false
  private delay: number
  private previousHit = false

  constructor(
    private readonly check: () => Promise<boolean>,
    private readonly maxMs: number,
  ) {
    this.delay = minPollDelay(maxMs)
  }

  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.running = this.tick()
    }, ms)
    // Wake-ups alone must not keep a process alive; the runner loop and callers hold it open.
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    let hit = false
    try {
      hit = await this.check()
    } catch {
      hit = false
    }
    this.delay = nextPollDelay(this.delay, hit, this.previousHit, this.maxMs)
    this.previousHit = hit
    this.running = null
    this.schedule(this.delay)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running
  }
}
