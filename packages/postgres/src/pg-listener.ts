import type { Pool, PoolClient } from 'pg'
import { quoteIdent } from './identifiers.js'
import { translatePgError } from './pg-errors.js'

type Handler = (payload: string) => void

interface Held {
  client: PoolClient
  /** Set once the connection is lost or given back, so its late events are ignored. */
  done: boolean
}

const MAX_RECONNECT_DELAY_MS = 5000

/**
 * One dedicated connection that LISTENs for every channel a component subscribed to. It is
 * borrowed from the pool while at least one channel has a handler and given back (after
 * `UNLISTEN *`) when none has. When the connection dies (server restart, `pg_terminate_backend`,
 * network), it reconnects with backoff, LISTENs again and calls the reconnect callbacks:
 * notifications sent meanwhile are lost, so subscribers treat a reconnect as a wake-up and the
 * pollers behind them cover the rest.
 */
export class PgListener {
  private held: Held | null = null
  private readonly channels = new Map<string, Set<Handler>>()
  private readonly reconnectCallbacks = new Set<() => void>()
  private readonly listening = new Set<string>()
  private chain: Promise<void> = Promise.resolve()
  private retryTimer: NodeJS.Timeout | null = null
  private retryDelay: number
  private closed = false
  /** Times the connection was re-established after a loss. */
  reconnects = 0

  constructor(
    private readonly pool: () => Pool,
    private readonly baseDelayMs: number,
  ) {
    this.retryDelay = baseDelayMs
  }

  /** Server process id of the LISTEN connection, or null while there is none. */
  get pid(): number | null {
    return (this.held?.client as unknown as { processID?: number } | undefined)?.processID ?? null
  }

  /**
   * Calls `handler` with the payload of every NOTIFY on `channel`; resolves once the LISTEN is
   * active. `onReconnect` runs after a lost connection was re-established. The returned function
   * removes both.
   */
  async listen(channel: string, handler: Handler, onReconnect?: () => void): Promise<() => Promise<void>> {
    let set = this.channels.get(channel)
    if (!set) this.channels.set(channel, (set = new Set()))
    set.add(handler)
    if (onReconnect) this.reconnectCallbacks.add(onReconnect)
    const remove = async () => {
      const current = this.channels.get(channel)
      current?.delete(handler)
      if (current?.size === 0) this.channels.delete(channel)
      if (onReconnect) this.reconnectCallbacks.delete(onReconnect)
      await this.sync().catch(() => {})
    }
    try {
      await this.sync()
    } catch (err) {
      await remove()
      throw translatePgError(err, `LISTEN ${channel}`)
    }
    return remove
  }

  /** Gives the connection back and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    this.channels.clear()
    this.reconnectCallbacks.clear()
    await this.chain
    await this.giveBack()
  }

  /** Makes the LISTENed channels match the handlers; runs one at a time. */
  private sync(): Promise<void> {
    const run = this.chain.then(() => this.apply())
    this.chain = run.catch(() => {})
    return run
  }

  private async apply(): Promise<void> {
    if (this.closed) return
    if (this.channels.size === 0) return this.giveBack()
    const held = this.held ?? (await this.connect())
    const add = [...this.channels.keys()].filter((c) => !this.listening.has(c))
    const drop = [...this.listening].filter((c) => !this.channels.has(c))
    if (add.length + drop.length === 0) return
    const sql = [
      ...add.map((c) => `LISTEN ${quoteIdent(c)}`),
      ...drop.map((c) => `UNLISTEN ${quoteIdent(c)}`),
    ]
    await held.client.query(sql.join('; '))
    if (held.done) throw new Error('LISTEN connection terminated')
    for (const c of add) this.listening.add(c)
    for (const c of drop) this.listening.delete(c)
  }

  private async connect(): Promise<Held> {
    const client = await this.pool().connect()
    const held: Held = { client, done: false }
    const onLost = (err?: Error) => {
      if (held.done) return
      held.done = true
      if (this.held === held) {
        this.held = null
        this.listening.clear()
      }
      // Destroys the broken connection instead of returning it to the pool.
      client.release(err ?? new Error('LISTEN connection ended'))
      this.scheduleReconnect()
    }
    // Kept for the client's whole life: an 'error' without a listener would crash the process.
    client.on('error', (err) => onLost(err))
    client.on('end', () => onLost())
    client.on('notification', (msg) => {
      if (held.done) return
      for (const handler of this.channels.get(msg.channel) ?? []) {
        try {
          handler(msg.payload ?? '')
        } catch {
          // A subscriber's failure must not stop the others.
        }
      }
    })
    this.held = held
    return held
  }

  private async giveBack(): Promise<void> {
    const held = this.held
    if (!held) return
    this.held = null
    this.listening.clear()
    held.done = true
    let failed: Error | undefined
    await held.client.query('UNLISTEN *').catch((err: Error) => {
      failed = err
    })
    held.client.release(failed)
  }

  private scheduleReconnect(): void {
    if (this.closed || this.channels.size === 0 || this.retryTimer) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.sync().then(
        () => {
          this.retryDelay = this.baseDelayMs
          this.reconnects++
          for (const cb of this.reconnectCallbacks) cb()
        },
        () => {
          this.retryDelay = Math.min(this.retryDelay * 2, MAX_RECONNECT_DELAY_MS)
          this.scheduleReconnect()
        },
      )
    }, this.retryDelay)
    this.retryTimer.unref()
  }
}
