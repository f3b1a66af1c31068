import { type ComponentContext, NencError } from '@nenc/core'
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
  private boundApp: string | null = null
  private acquired: Promise<void> | null = null
  private closing = false

  constructor(source: PostgresBackendOptions | PostgresConnection) {
    this.connection = source instanceof PostgresConnection ? source : new PostgresConnection(source)
  }

  async init(ctx: ComponentContext): Promise<void> {
    if (this.boundApp !== null && this.boundApp !== ctx.appId) {
      throw new NencError(
        'CONFIG',
        `This ${this.constructor.name} is bound to app "${this.boundApp}" and cannot serve app "${ctx.appId}"; create one backend per app.`,
      )
    }
    this.acquired ??= this.connection.acquire().then(
      () => {
        this.boundApp = ctx.appId
        this.onInit()
      },
      (err: unknown) => {
        this.acquired = null
        throw err
      },
    )
    await this.acquired
  }

  async close(): Promise<void> {
    const acquired = this.acquired
    if (!acquired || this.closing) return
    this.closing = true
    try {
      // Still usable while it settles (subscriptions and timers stop).
      await acquired.then(
        () => this.onClose(),
        () => {},
      )
    } finally {
      this.acquired = null
      this.closing = false
      await acquired.then(
        () => this.connection.release(),
        () => {},
      )
    }
  }

  /** The bound app id; every row this component reads or writes carries it. */
  protected get appId(): string {
    if (this.boundApp === null || !this.acquired) {
      throw new NencError(
        'CONFIG',
        `This ${this.constructor.name} is not initialised: call init({ appId }) first (the app does it on first use).`,
      )
    }
    return this.boundApp
  }

  /** The app id bound by the first `init()`, even while closed (null before). */
  protected get boundAppId(): string | null {
    return this.boundApp
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
