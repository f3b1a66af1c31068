import { ConfigError } from '@nenc/core'
import type { Redis, RedisOptions } from 'ioredis'

/** Options of {@link redisBackend} and of each Redis component built on its own. */
export interface RedisBackendOptions {
  /**
   * Connection URL (`redis://[user:pass@]host:port[/db]`, `rediss://` for TLS). Give `url` or
   * `client`, never both. The backend creates (and closes) its own connections from it.
   * @default 'redis://127.0.0.1:6379' (when neither `url` nor `client` is given)
   */
  url?: string
  /**
   * An existing ioredis client to run commands on. The backend never closes it; it creates (and
   * closes) one duplicate of it for pub/sub. Its own options apply as they are: set
   * `enableOfflineQueue: false` on it if calls should fail fast while Redis is down.
   */
  client?: Redis
  /**
   * First segment of every key: keys look like `<keyPrefix>:{<appId>}:…`.
   * @default 'nenc'
   */
  keyPrefix?: string
  /**
   * A command without an answer after this long fails with `BackendUnavailableError`
   * (only for connections the backend creates). 0 disables the limit.
   * @default 10000
   */
  commandTimeoutMs?: number
  /**
   * How long `init()` and `subscribe()` wait for a connection before failing with
   * `BackendUnavailableError`.
   * @default 5000
   */
  connectTimeoutMs?: number
  /**
   * Upper bound of the delay between reconnection attempts while Redis is down
   * (only for connections the backend creates).
   * @default 1000
   */
  maxReconnectDelayMs?: number
  /**
   * A transition call whose answer was lost when the connection dropped may still have been
   * applied. It waits up to this long for the connection to come back and is then replayed
   * safely (what it applied is not applied twice); past it, it fails with
   * `BackendUnavailableError`. New calls made while Redis is down still fail at once.
   * @default 15000
   */
  replayWindowMs?: number
  /** Extra ioredis options for connections built from `url` (TLS, username, family …). */
  redisOptions?: RedisOptions
}

/** {@link RedisBackendOptions} with defaults filled in; frozen. */
export interface ResolvedRedisOptions {
  readonly url: string | null
  readonly client: Redis | null
  readonly keyPrefix: string
  readonly commandTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly maxReconnectDelayMs: number
  readonly replayWindowMs: number
  readonly redisOptions: Readonly<RedisOptions>
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
const SOURCE = 'redisBackend options'

function nonNegativeInt(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new ConfigError(
      key,
      SOURCE,
      `expected a non-negative integer of milliseconds, got ${String(value)}`,
    )
  return value
}

function looksLikeIoredis(value: unknown): value is Redis {
  const c = value as Partial<Redis> | null
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.evalsha === 'function' &&
    typeof c.duplicate === 'function' &&
    typeof c.status === 'string'
  )
}

/**
 * Fills defaults and validates. Throws `ConfigError` naming the bad key: both `url` and
 * `client`, a URL that is not `redis://`/`rediss://`, a client that is not an ioredis
 * instance (a Cluster is refused: the scripts need one server), bad timeouts or prefix.
 */
export function resolveOptions(input: RedisBackendOptions = {}): ResolvedRedisOptions {
  if (typeof input !== 'object' || input === null)
    throw new ConfigError('redis', SOURCE, 'expected an options object ({ url } or { client })')
  const { url, client } = input
  if (url !== undefined && client !== undefined)
    throw new ConfigError(
      'url',
      SOURCE,
      'give either `url` or `client`, not both (the backend would not know which to close)',
    )
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url)))
    throw new ConfigError('url', SOURCE, `expected a redis:// or rediss:// URL, got ${JSON.stringify(url)}`)
  if (client !== undefined && !looksLikeIoredis(client))
    throw new ConfigError(
      'client',
      SOURCE,
      'expected an ioredis `Redis` instance (ioredis Cluster is not supported: the Lua scripts build keys on one server)',
    )
  const keyPrefix = input.keyPrefix ?? 'nenc'
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0 || /[{}\s]/.test(keyPrefix))
    throw new ConfigError(
      'keyPrefix',
      SOURCE,
      `expected a non-empty string without braces or spaces, got ${JSON.stringify(keyPrefix)}`,
    )
  if (input.redisOptions !== undefined && (typeof input.redisOptions !== 'object' || client !== undefined))
    throw new ConfigError(
      'redisOptions',
      SOURCE,
      'expected an ioredis options object, used only with `url` (a given client keeps its own options)',
    )
  return Object.freeze({
    url: client ? null : (url ?? DEFAULT_REDIS_URL),
    client: client ?? null,
    keyPrefix,
    commandTimeoutMs: nonNegativeInt('commandTimeoutMs', input.commandTimeoutMs, 10_000),
    connectTimeoutMs: nonNegativeInt('connectTimeoutMs', input.connectTimeoutMs, 5000),
    maxReconnectDelayMs: nonNegativeInt('maxReconnectDelayMs', input.maxReconnectDelayMs, 1000),
    replayWindowMs: nonNegativeInt('replayWindowMs', input.replayWindowMs, 15_000),
    redisOptions: Object.freeze({ ...(input.redisOptions ?? {}) }),
  })
}
