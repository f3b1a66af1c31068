import { AppBinding, type ComponentContext, NencError } from '@nenc/core'
import { type COMPONENT_PARTS, RedisKeys } from './keys.js'
import type { LuaScript } from './lua-script.js'
import type { RedisBackendOptions } from './options.js'
import { RedisConnection } from './redis-connection.js'

const PURGE_BATCH = 1000

/**
 * Lifecycle shared by the five Redis components: bound to one app id by `init()`, which takes a
 * reference on the (shared) connection; `close()` gives it back, once. A component built from
 * options owns a connection of its own; one built from a {@link RedisConnection} shares it.
 */
export abstract class RedisComponent {
  readonly backendName = 'redis'
  readonly inMemory = false
  protected readonly conn: RedisConnection
  private readonly binding = new AppBinding(() => `This Redis ${this.component}`)
  private boundKeys: RedisKeys | null = null

  /** Which key family `purge()` removes. */
  protected abstract readonly component: keyof typeof COMPONENT_PARTS

  constructor(connection: RedisConnection | RedisBackendOptions = {}) {
    this.conn = connection instanceof RedisConnection ? connection : new RedisConnection(connection)
  }

  /**
   * Binds the component to an app and connects (waiting at most `connectTimeoutMs`).
   * Idempotent for the same app id; another app id throws. Throws `BackendUnavailableError`
   * when Redis cannot be reached.
   */
  async init(ctx: ComponentContext): Promise<void> {
    await this.binding.bind(ctx.appId, async () => {
      await this.conn.acquire()
      this.boundKeys = new RedisKeys(this.conn.options.keyPrefix, ctx.appId)
    })
  }

  /** Gives the connection reference back (closing what the backend created when it is the last). Idempotent. */
  async close(): Promise<void> {
    await this.binding.release(async () => {
      await this.onClose()
      await this.conn.release()
    })
  }

  /** Stops timers and subscriptions before the connection is released. */
  protected async onClose(): Promise<void> {}

  /** The app's key names; throws when `init()` was not called. */
  protected get keys(): RedisKeys {
    if (!this.boundKeys)
      throw new NencError(
        'CONFIG',
        `This Redis ${this.component} is not bound to an app yet; call init({ appId }) first (the app does it on first use).`,
      )
    return this.boundKeys
  }

  protected run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]) {
    return this.conn.scripts.eval(script, keys, args)
  }

  /**
   * Removes every key of this component for this app (SCAN + UNLINK in batches; the time grows
   * with the size of the whole keyspace). Not bound yet: nothing to remove.
   */
  async purge(): Promise<void> {
    if (!this.boundKeys) return
    const pattern = this.boundKeys.componentPattern(this.component)
    await this.conn.command(`purge ${this.component}`, async (client) => {
      let cursor = '0'
      do {
        const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', PURGE_BATCH)
        cursor = next
        if (found.length) await client.unlink(...found)
      } while (cursor !== '0')
    })
  }
}
