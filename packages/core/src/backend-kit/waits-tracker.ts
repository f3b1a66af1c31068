/**
 * Backend kit: knows, per orchestrator, whether any blocking-control edge may exist, so runners
 * of an app without waits skip `getBlockingInvocations` (one round trip per runner iteration)
 * without ever missing an edge for longer than the server's push takes:
 *
 * - `addWaiting` announces on the app's waits channel (Redis PUBLISH, PostgreSQL NOTIFY, …)
 *   whenever it adds edges; an announcement — or a reconnection of the listening connection, when
 *   announcements may have been lost — marks edges as possible (`listen` calls `onEdge` for
 *   both). A local `addWaiting` marks them at once.
 * - A query that found no edge at all marks "none" only if nothing announced one while it was in
 *   flight (`epoch` unchanged): an edge written after the query's snapshot is announced after
 *   it, so it is never hidden.
 * - Until the listener is active, every call queries.
 */
export class WaitsTracker {
  /** Bumped by every sign of a new edge. */
  epoch = 0
  private none = false
  private subscribed = false
  private subscribing: Promise<void> | null = null
  private unlisten: (() => Promise<void>) | null = null

  constructor(private readonly listen: (onEdge: () => void) => Promise<() => Promise<void>>) {}

  /** False only when the last query saw no edge and nothing announced one since. */
  mayExist(): boolean {
    if (!this.subscribing) this.subscribe()
    return !(this.subscribed && this.none)
  }

  /** Edges may exist from now on. */
  edgeAdded(): void {
    this.epoch++
    this.none = false
  }

  /** A query that started at `epoch` found no edge. */
  sawNone(epoch: number): void {
    if (this.subscribed && epoch === this.epoch) this.none = true
  }

  private subscribe(): void {
    this.subscribing = this.listen(() => this.edgeAdded())
      .then((unlisten) => {
        this.unlisten = unlisten
        this.subscribed = true
      })
      .catch(() => {
        // The server is unreachable: keep querying; the next call tries to subscribe again.
        this.subscribing = null
      })
  }

  async close(): Promise<void> {
    await this.subscribing
    this.subscribing = null
    this.subscribed = false
    this.none = false
    const unlisten = this.unlisten
    this.unlisten = null
    await unlisten?.()
  }
}
