import { BackendUnavailableError } from '@nenc/core'
import { Redis } from 'ioredis'
import { translateError } from './errors-from-code.js'
import { type RedisBackendOptions, type ResolvedRedisOptions, resolveOptions } from './options.js'
import { ScriptRunner } from './script-runner.js'

/**
 * The connections the components of one backend share: one command connection and one
 * subscriber connection for pub/sub, both created lazily. Components acquire it in `init()` and
 * release it in `close()`; when the last one releases, the connections this object created are
 * closed (a client passed in by the user never is).
 *
 * Connections built from a URL fail fast while Redis is down and reconnect on their own, so a
 * caller gets `BackendUnavailableError` at once instead of a promise queued until the server
 * returns: `enableOfflineQueue: false` refuses commands while disconnected, and
 * `maxRetriesPerRequest: 0` fails the commands in flight when the connection drops instead of
 * re-sending them after the reconnection (a script the server ran before the drop would run
 * twice, and its second answer — "invalid transition" for the caller's own change — would lie).
 */
export class RedisConnection {
  readonly options: ResolvedRedisOptions
  private commandClient: Redis | null = null
  private subscriberClient: Redis | null = null
  private subscriberReady = false
  private refs = 0
  private lastError: Error | null = null
  private readonly channels = new Map<
    string,
    { handlers: Set<(message: string) => void>; active: Promise<void> }
  >()
  private readonly reconnectListeners = new Set<() => void>()

  /** Validates `options` (`ConfigError` on bad input); connects only when a component is initialised. */
  constructor(options: RedisBackendOptions = {}) {
    this.options = resolveOptions(options)
  }

  /** Where the server is, for messages (never shows a password). */
  get server(): string {
    if (this.options.url) return this.options.url.replace(/\/\/[^@/]*@/, '//***@')
    const c = this.options.client!.options
    return `${c.host ?? '127.0.0.1'}:${c.port ?? 6379}`
  }

  /** Takes a reference and makes sure the command connection is ready (else `BackendUnavailableError`). */
  async acquire(): Promise<void> {
    this.refs++
    try {
      await this.ready(this.client)
    } catch (err) {
      await this.release()
      throw err
    }
  }

  /** Drops a reference; the last one closes the connections this object created. */
  async release(): Promise<void> {
    if (this.refs === 0) return
    if (--this.refs > 0) return
    const owned = [this.options.client ? null : this.commandClient, this.subscriberClient]
    this.commandClient = null
    this.subscriberClient = null
    this.subscriberReady = false
    this.channels.clear()
    this.reconnectListeners.clear()
    await Promise.all(owned.map((c) => (c ? closeClient(c) : undefined)))
  }

  /** The command connection (created on first use). */
  get client(): Redis {
    if (this.commandClient) return this.commandClient
    if (this.options.client) return (this.commandClient = this.options.client)
    const o = this.options
    const client = new Redis(o.url!, {
      ...o.redisOptions,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: o.connectTimeoutMs || 10_000,
      ...(o.commandTimeoutMs > 0 ? { commandTimeout: o.commandTimeoutMs } : {}),
      retryStrategy: (times: number) => Math.min(times * 50, o.maxReconnectDelayMs),
    })
    client.on('error', (err: Error) => {
      this.lastError = err
    })
    return (this.commandClient = client)
  }

  private get subscriber(): Redis {
    if (this.subscriberClient) return this.subscriberClient
    const o = this.options
    const retryStrategy = (times: number) => Math.min(times * 50, o.maxReconnectDelayMs)
    const sub = o.client
      ? o.client.duplicate({ lazyConnect: true, retryStrategy })
      : new Redis(o.url!, {
          ...o.redisOptions,
          lazyConnect: true,
          connectTimeout: o.connectTimeoutMs || 10_000,
          retryStrategy,
        })
    sub.on('error', (err: Error) => {
      this.lastError = err
    })
    sub.on('message', (channel: string, message: string) => {
      const entry = this.channels.get(channel)
      if (entry) for (const h of entry.handlers) h(message)
    })
    // After a reconnection ioredis subscribes again; messages published meanwhile are lost, so
    // listeners are told to re-check (a spurious wake-up is allowed, a withheld one is not).
    sub.on('ready', () => {
      if (this.subscriberReady) for (const l of this.reconnectListeners) l()
      this.subscriberReady = true
    })
    return (this.subscriberClient = sub)
  }

  /** Resolves once the command connection is ready, within `ms` (else `BackendUnavailableError`). */
  whenReady(ms: number): Promise<void> {
    return this.ready(this.client, ms)
  }

  /** Waits until `client` is connected, at most `ms`. */
  private async ready(client: Redis, ms = this.options.connectTimeoutMs): Promise<void> {
    if (client.status === 'ready') return
    if (client.status === 'end')
      throw new BackendUnavailableError('redis', `the connection to ${this.server} was closed.`)
    if (client.status === 'wait') client.connect().catch(() => {})
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer)
        client.off('ready', onReady)
        client.off('end', onEnd)
        if (err) reject(err)
        else resolve()
      }
      const onReady = () => done()
      const onEnd = () => done(this.unavailable('the connection ended'))
      const timer = setTimeout(() => done(this.unavailable(`no connection within ${ms} ms`)), ms)
      client.once('ready', onReady)
      client.once('end', onEnd)
    })
  }

  private unavailable(what: string): BackendUnavailableError {
    const last = this.lastError ? ` (last error: ${this.lastError.message})` : ''
    return new BackendUnavailableError(
      'redis',
      `${what} to ${this.server}${last}; check that Redis is running and reachable.`,
      { cause: this.lastError ?? undefined },
    )
  }

  /** @internal Runs one command (or pipeline) and translates its errors. */
  async command<T>(action: string, run: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await run(this.client)
    } catch (err) {
      throw translateError(err, action, this.server)
    }
  }

  /** @internal Runs the Lua scripts on the command connection (EVALSHA, pipelines, chunks). */
  readonly scripts = new ScriptRunner(this)

  /**
   * Calls `handler` with every message on `channel`; resolves once the subscription is active.
   * The returned function unsubscribes.
   */
  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const sub = this.subscriber
    await this.ready(sub)
    let entry = this.channels.get(channel)
    if (!entry) {
      const active = sub.subscribe(channel).then(() => undefined)
      const created = { handlers: new Set<(message: string) => void>(), active }
      this.channels.set(channel, (entry = created))
      active.catch(() => {
        if (this.channels.get(channel) === created) this.channels.delete(channel)
      })
    }
    try {
      await entry.active
    } catch (err) {
      throw translateError(err, 'subscribe', this.server)
    }
    entry.handlers.add(handler)
    return async () => {
      const current = this.channels.get(channel)
      if (!current?.handlers.delete(handler) || current.handlers.size > 0) return
      this.channels.delete(channel)
      if (sub.status === 'ready') await sub.unsubscribe(channel).catch(() => {})
    }
  }

  /** Calls `listener` whenever the subscriber connection came back after a disconnection. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener)
    return () => {
      this.reconnectListeners.delete(listener)
    }
  }
}

async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit()
      return
    } catch {
      // Server went away meanwhile: drop the socket below.
    }
  }
  client.disconnect()
}
