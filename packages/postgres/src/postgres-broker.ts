import type { Broker, RouteOptions, Unsubscribe } from '@nenc/core'
import { asyncCommit, channelName } from './identifiers.js'
import { PostgresComponent } from './postgres-component.js'
import { storedNumber } from './status-rules.js'

/** Slack added to a due timer so the server clock has certainly passed `available_at`. */
const DUE_SLACK_MS = 2

/**
 * The queue as a table: `route` inserts (and NOTIFYs) in one statement, `retrieve` deletes the
 * oldest due rows picked with FOR UPDATE SKIP LOCKED and returns them, so concurrent retrievers
 * never get the same entry and a popped entry is gone only once the DELETE commits. Delayed ids
 * carry `available_at` and are ordered by it: they join the back of the queue when they become
 * due, as in the memory broker.
 *
 * Wake-ups: `subscribe` LISTENs on the app's queue channel. An immediate route NOTIFYs with an
 * empty payload (subscribers are called at once); a delayed one NOTIFYs its delay, and
 * subscribers are called when the earliest delay this process learnt of has passed. A safety
 * poll every `pollIntervalMs` calls them when due ids exist and learns the next delay, so a lost
 * notification (e.g. while the LISTEN connection reconnects) only delays a runner.
 */
export class PostgresBroker extends PostgresComponent implements Broker {
  readonly capabilities = { pushedWakeUps: true }
  private readonly listeners = new Set<() => void>()
  private subscription: Promise<() => Promise<void>> | null = null
  private pollTimer: NodeJS.Timeout | null = null
  private dueTimer: NodeJS.Timeout | null = null
  private dueAt = Number.POSITIVE_INFINITY
  private emitScheduled = false
  private polling: Promise<void> | null = null

  private get channel(): string {
    return channelName(this.connection.schema, this.appId, 'queue')
  }

  async route(ids: readonly string[], options?: RouteOptions): Promise<void> {
    if (ids.length === 0) return
    const delay = Math.max(0, Math.ceil(options?.delayMs ?? 0))
    await this.query(
      `WITH ins AS (
         INSERT INTO ${this.s}.queue (app_id, available_at, id)
         SELECT $1, now.ms + $3, x.id
         FROM unnest($2::text[]) WITH ORDINALITY AS x(id, ord) CROSS JOIN (SELECT ${this.s}.now_ms() AS ms) now
         ORDER BY x.ord
       )
       SELECT pg_notify($4, $5)`,
      [this.appId, ids, delay, this.channel, delay > 0 ? String(delay) : ''],
      'route',
    )
    this.routed(delay)
  }

  /**
   * Ids were queued with this delay by this process (here or by a fused step of the backend):
   * local subscribers need not wait for the NOTIFY round trip (spurious calls are allowed).
   * @internal
   */
  routed(delayMs: number): void {
    if (delayMs <= 0) this.emit()
    else this.scheduleDue(delayMs)
  }

  async retrieve(max: number): Promise<string[]> {
    if (max <= 0) return []
    const rows = await this.query<{ id: string; available_at: string; seq: string }>(
      `WITH picked AS (
         SELECT c.ctid AS tid FROM ${this.s}.queue c
         WHERE c.app_id = $1 AND c.available_at <= (SELECT ${this.s}.now_ms())
         ORDER BY c.available_at, c.seq
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       -- Joined by ctid (a TID probe per row), never a scan over the queue's dead rows.
       DELETE FROM ${this.s}.queue q USING picked p
       WHERE q.ctid = p.tid AND (SELECT ${asyncCommit('$3')}) IS NOT NULL
       RETURNING q.id, q.available_at, q.seq`,
      // Intermediate: a popped id lost in a server crash comes back (at-least-once delivery).
      [this.appId, Math.floor(max), this.connection.intermediateCommit],
      'retrieve',
    )
    // RETURNING has no order: restore the queue's.
    return rows
      .map((r) => ({
        id: r.id,
        at: storedNumber(r.available_at, 'queue entry'),
        seq: storedNumber(r.seq, 'queue entry'),
      }))
      .sort((a, b) => a.at - b.at || a.seq - b.seq)
      .map((r) => r.id)
  }

  async count(): Promise<number> {
    const [row] = await this.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${this.s}.queue
       WHERE app_id = $1 AND available_at <= (SELECT ${this.s}.now_ms())`,
      [this.appId],
      'count',
    )
    return row?.n ?? 0
  }

  async subscribe(listener: () => void): Promise<Unsubscribe> {
    this.listeners.add(listener)
    try {
      await this.listen()
    } catch (err) {
      this.listeners.delete(listener)
      throw err
    }
    return async () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0) await this.stopListening()
    }
  }

  async purge(): Promise<void> {
    await this.query(`DELETE FROM ${this.s}.queue WHERE app_id = $1`, [this.appId], 'purge queue')
  }

  protected override async onClose(): Promise<void> {
    this.listeners.clear()
    await this.stopListening()
  }

  private listen(): Promise<unknown> {
    this.subscription ??= (async () => {
      const unlisten = await this.connection.listener.listen(
        this.channel,
        (payload) => this.onNotify(payload),
        () => this.emit(), // reconnected: notifications may have been lost meanwhile
      )
      this.pollTimer = setInterval(() => void this.poll(), this.connection.options.pollIntervalMs)
      this.pollTimer.unref()
      void this.poll() // ids delayed before we subscribed
      return unlisten
    })().catch((err: unknown) => {
      this.subscription = null
      throw err
    })
    return this.subscription
  }

  /** The last subscriber left: stop LISTENing. */
  private async stopListening(): Promise<void> {
    const subscription = this.subscription
    this.subscription = null
    if (this.pollTimer) clearInterval(this.pollTimer)
    if (this.dueTimer) clearTimeout(this.dueTimer)
    this.pollTimer = null
    this.dueTimer = null
    this.dueAt = Number.POSITIVE_INFINITY
    const unlisten = await subscription?.catch(() => null)
    await unlisten?.()
    await this.polling
  }

  private onNotify(payload: string): void {
    const delay = payload === '' ? 0 : Number(payload)
    if (Number.isFinite(delay) && delay > 0) this.scheduleDue(delay)
    else this.emit()
  }

  /** Calls the subscribers once the earliest known delayed id is due. */
  private scheduleDue(delayMs: number): void {
    if (this.listeners.size === 0) return
    const at = Date.now() + delayMs + DUE_SLACK_MS
    if (this.dueTimer && at >= this.dueAt) return
    if (this.dueTimer) clearTimeout(this.dueTimer)
    this.dueAt = at
    this.dueTimer = setTimeout(
      () => {
        this.dueTimer = null
        this.dueAt = Number.POSITIVE_INFINITY
        this.emit()
        void this.poll() // learn the next delayed id
        // Capped at setTimeout's largest delay (a schedule weeks ahead would otherwise fire, poll
        // and re-arm in a loop); firing early is a spurious wake-up, and the poll re-arms it.
      },
      Math.min(at - Date.now(), 2 ** 31 - 1),
    )
    this.dueTimer.unref()
  }

  /** Safety net: due ids → wake; the next delayed id → timer. One at a time. */
  private poll(): Promise<void> {
    if (this.listeners.size === 0 || this.polling) return this.polling ?? Promise.resolve()
    this.polling = this.pollOnce().finally(() => {
      this.polling = null
    })
    return this.polling
  }

  private async pollOnce(): Promise<void> {
    try {
      const [row] = await this.query<{ due: boolean; next_in: string | null }>(
        `SELECT EXISTS (SELECT 1 FROM ${this.s}.queue WHERE app_id = $1 AND available_at <= now.ms) AS due,
                (SELECT min(available_at) FROM ${this.s}.queue WHERE app_id = $1 AND available_at > now.ms) - now.ms
                  AS next_in
         FROM (SELECT ${this.s}.now_ms() AS ms) now`,
        [this.appId],
        'poll queue',
      )
      if (row?.due) this.emit()
      if (row?.next_in != null) this.scheduleDue(Number(row.next_in))
    } catch {
      // Backend briefly unavailable or closing: the next poll tries again.
    }
  }

  /** Calls every subscriber once per microtask turn, however many wake-ups arrived. */
  private emit(): void {
    if (this.emitScheduled || this.listeners.size === 0) return
    this.emitScheduled = true
    queueMicrotask(() => {
      this.emitScheduled = false
      for (const listener of [...this.listeners]) {
        try {
          listener()
        } catch {
          // One subscriber's failure must not stop the others.
        }
      }
    })
  }
}
