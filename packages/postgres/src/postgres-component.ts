import { AppBinding, type ComponentContext } from '@nenc/core'
import type { PostgresBackendOptions } from './options.js'
import { PostgresConnection } from './postgres-connection.js'

/**
 * Lifecycle shared by the PostgreSQL components: built from options (own connection) or from a
 * shared {@link PostgresConnection}; `init()` binds the app id and acquires the connection (pool,
 * migrations), `close()` releases it. Both idempotent.
 */
export abstract class PostgresComponent {
  readonly backendName = 'postgres'
  readonly inMemory = false
  /** The pool, schema and LISTEN connection this component uses. */
  readonly connection: PostgresConnection
  private readonly binding = new AppBinding(() => `This ${this.constructor.name}`)

  constructor(source: PostgresBackendOptions | PostgresConnection) {
    this.connection = source instanceof PostgresConnection ? source : new PostgresConnection(source)
  }

  async init(ctx: ComponentContext): Promise<void> {
    await this.binding.bind(ctx.appId, async () => {
      await this.connection.acquire()
      this.onInit()
    })
  }

  async close(): Promise<void> {
    await this.binding.release(async () => {
      try {
        // Still usable while it settles (subscriptions and timers stop).
        await this.onClose()
      } finally {
        await this.connection.release()
      }
    })
  }

  /** The bound app id; every row this component reads or writes carries it. */
  protected get appId(): string {
    return this.binding.appId
  }

  /** The app id bound by the first `init()`, even while closed (null before). */
  protected get boundAppId(): string | null {
    return this.binding.boundAppId
  }

  /** The schema as a quoted identifier, for SQL text. */
  protected get s(): string {
    return this.connection.s
  }

  /** One statement, one round trip; driver errors translated (see PostgresConnection.query). */
  protected query<R>(sql: string, values: readonly unknown[], what: string): Promise<R[]> {
    return this.connection.query<R>(sql, values, what)
  }

  /** Runs after each `init()` that acquired the connection (timers, links). */
  protected onInit(): void {}
  /** Runs first in `close()` (subscriptions, timers). */
  protected async onClose(): Promise<void> {}
}
