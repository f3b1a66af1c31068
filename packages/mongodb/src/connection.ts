import { type Db, MongoClient } from 'mongodb'
import { type MongoBackendOptions, type ResolvedMongoOptions, resolveOptions } from './options.js'
import { translateError } from './translate-error.js'

/** How wake-ups from other processes reach this one. */
export type WakeTransport = 'change-streams' | 'polling'

/**
 * True when `hello` describes a deployment with change streams: a replica-set member (it names
 * its set) or a mongos router. A standalone server has neither.
 */
export function supportsChangeStreams(hello: {
  setName?: unknown
  msg?: unknown
  [field: string]: unknown
}): boolean {
  return (typeof hello.setName === 'string' && hello.setName.length > 0) || hello.msg === 'isdbgrid'
}

/**
 * One MongoDB client shared by the components of a backend. With `url` the client is created on
 * the first `acquire()` and closed when the last component that acquired it releases it; a
 * client passed in is used as is and never closed.
 */
export class MongoConnection {
  readonly options: ResolvedMongoOptions
  private connecting: Promise<MongoClient> | null = null
  private users = 0
  private transport: Promise<WakeTransport> | null = null

  /** Validates the options at once: a bad option throws `ConfigError` here, not at first use. */
  constructor(options: MongoBackendOptions) {
    this.options = resolveOptions(options)
  }

  /** True when this connection created its client (and so closes it). */
  get ownsClient(): boolean {
    return this.options.client === null
  }

  /** Counts one user and resolves to the database, connecting first when the client is ours. */
  async acquire(): Promise<Db> {
    this.users++
    try {
      const client = await this.connect()
      return client.db(this.options.database)
    } catch (err) {
      this.users--
      throw translateError(err, `connecting to MongoDB database "${this.options.database}"`)
    }
  }

  /** Releases one user; the last release closes a client this connection created. */
  async release(): Promise<void> {
    if (this.users === 0) return
    this.users--
    if (this.users > 0 || !this.ownsClient) return
    const pending = this.connecting
    this.connecting = null
    this.transport = null
    const client = await pending?.catch(() => null)
    if (client) await client.close()
  }

  /** Change streams on replica sets and sharded clusters, polling otherwise (or as configured). */
  wakeTransport(db: Db): Promise<WakeTransport> {
    const mode = this.options.wakeUps
    if (mode !== 'auto') return Promise.resolve(mode)
    // Run on the app's database: `hello` needs no privileges there (admin may be off limits).
    this.transport ??= db
      .command({ hello: 1 })
      // Servers before 4.4.2 answer only the legacy name of the same command.
      .catch(() => db.command({ isMaster: 1 }))
      .then((hello): WakeTransport => (supportsChangeStreams(hello) ? 'change-streams' : 'polling'))
      .catch((err) => {
        this.transport = null
        throw translateError(err, 'asking the MongoDB server for its topology (hello)')
      })
    return this.transport
  }

  private connect(): Promise<MongoClient> {
    if (this.options.client) return Promise.resolve(this.options.client)
    this.connecting ??= (async () => {
      const client = new MongoClient(this.options.url!, { ...this.options.clientOptions })
      try {
        await client.connect()
      } catch (err) {
        this.connecting = null
        await client.close().catch(() => {})
        throw err
      }
      return client
    })()
    return this.connecting
  }
}
