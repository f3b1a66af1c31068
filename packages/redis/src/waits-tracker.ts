import type { RedisConnection } from './redis-connection.js'

/**
 * Knows, per orchestrator, whether any blocking-control edge may exist, so that runners of an
 * app without waits skip `getBlockingInvocations` (one round trip per runner iteration, ~15% of
 * a batch's round trips) without ever missing an edge for longer than a pub/sub delivery:
 *
 * - The add-waiting script publishes on the app's waits channel whenever it adds edges; a
 *   message (or a reconnection, when messages may have been lost) marks edges as possible.
 * - A query that found the waited zset empty marks "none" only if no message arrived while it
 *   was in flight (`epoch` unchanged), so an edge added meanwhile is never hidden.
 * - Until the subscription is active, every call queries.
 */
export class WaitsTracker {
  /** Bumped by every sign of a new edge. */
  epoch = 0
  private none = false
  private subscribed = false
  private subscribing: Promise<void> | null = null
  private stop: (() => Promise<void>) | null = null
  private stopReconnect: (() => void) | null = null

  constructor(private readonly conn: RedisConnection) {}

  /** False only when the last query saw no edge and nothing announced one since. */
  mayExist(channel: string): boolean {
    if (!this.subscribing) this.subscribe(channel)
    return !(this.subscribed && this.none)
  }

  /** A local addWaiting: edges may exist from now on. */
  edgeAdded(): void {
    this.epoch++
    this.none = false
  }

  /** A query that started at `epoch` found no edge. */
  sawNone(epoch: number): void {
    if (this.subscribed && epoch === this.epoch) this.none = true
  }

  private subscribe(channel: string): void {
    this.subscribing = this.conn
      .subscribe(channel, () => this.edgeAdded())
      .then((stop) => {
        this.stop = stop
        this.stopReconnect = this.conn.onReconnect(() => this.edgeAdded())
        this.subscribed = true
      })
      .catch(() => {
        // Redis is unreachable: keep querying; the next call tries to subscribe again.
        this.subscribing = null
      })
  }

  async close(): Promise<void> {
    await this.subscribing
    this.subscribing = null
    this.subscribed = false
    this.none = false
    this.stopReconnect?.()
    this.stopReconnect = null
    const stop = this.stop
    this.stop = null
    await stop?.()
  }
}
