import { AppBinding, type Component, type ComponentContext, NencError } from '@nenc/core'
import { type Collection, type Db, type Document, MongoServerError } from 'mongodb'
import { MongoConnection } from './connection.js'
import { ensureIndexes, type IndexPlan } from './indexes.js'
import { appPrefix, type CollectionNames, checkNamespaceLength, collectionNames } from './names.js'
import type { MongoBackendOptions, ResolvedMongoOptions } from './options.js'
import { BACKEND, guard } from './translate-error.js'

const NAMESPACE_NOT_FOUND = 26

/**
 * Lifecycle shared by the Mongo components: bound to one app id by `init()`, which acquires the
 * shared connection and creates the component's indexes; `close()` releases the connection (the
 * last component to release a client nenc created closes it).
 */
export abstract class MongoComponent implements Component {
  readonly backendName = BACKEND
  readonly inMemory = false
  /** The client this component uses; shared by every component of one `mongoBackend()`. */
  readonly connection: MongoConnection
  private readonly binding = new AppBinding(() => `This MongoDB ${this.constructor.name}`)
  private database: Db | null = null
  private collectionNames: CollectionNames | null = null

  /** Pass options to give the component its own client, or a connection to share one. */
  constructor(options: MongoBackendOptions | MongoConnection) {
    this.connection = options instanceof MongoConnection ? options : new MongoConnection(options)
  }

  protected get options(): ResolvedMongoOptions {
    return this.connection.options
  }

  /** Indexes this component needs (created by `init()`). */
  protected abstract indexPlan(names: CollectionNames): IndexPlan
  /** Every collection this component writes (dropped by `drop()`). */
  protected abstract ownCollections(names: CollectionNames): string[]
  /** Component-specific setup after the indexes exist. */
  protected async onInit(): Promise<void> {}
  /** Stops wake-up feeds and timers before the connection is released. */
  protected async onClose(): Promise<void> {}

  async init(ctx: ComponentContext): Promise<void> {
    await this.binding.bind(ctx.appId, async () => {
      const names = collectionNames(appPrefix(this.options.collectionPrefix, ctx.appId))
      checkNamespaceLength(this.options.database, names)
      const db = await this.connection.acquire()
      try {
        this.database = db
        this.collectionNames = names
        await guard('creating indexes', () => ensureIndexes(db, this.indexPlan(names)))
        await this.onInit()
      } catch (err) {
        await this.shutdown().catch(() => {})
        throw err
      }
    })
  }

  async close(): Promise<void> {
    await this.binding.release(() => this.shutdown())
  }

  private async shutdown(): Promise<void> {
    try {
      await this.onClose()
    } finally {
      this.database = null
      this.collectionNames = null
      await this.connection.release()
    }
  }

  /**
   * Drops this component's collections (and their indexes) — for tests and uninstalling, where
   * `purge()` would leave empty collections behind. Needs `init()`.
   */
  async drop(): Promise<void> {
    const db = this.db
    await guard('dropping collections', () =>
      Promise.all(
        this.ownCollections(this.names).map((name) =>
          db
            .collection(name)
            .drop()
            .catch((err) => {
              if (!(err instanceof MongoServerError && err.code === NAMESPACE_NOT_FOUND)) throw err
            }),
        ),
      ),
    )
  }

  protected get db(): Db {
    if (!this.database) throw this.notInitialized()
    return this.database
  }

  protected get names(): CollectionNames {
    if (!this.collectionNames) throw this.notInitialized()
    return this.collectionNames
  }

  protected collection<T extends Document>(name: string): Collection<T> {
    return this.db.collection<T>(name)
  }

  private notInitialized(): NencError {
    return new NencError(
      'CONFIG',
      `This MongoDB ${this.constructor.name} is not initialised; call init({ appId }) first (an app does it on first use).`,
    )
  }
}
