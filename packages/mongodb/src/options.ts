import { ConfigError } from '@nenc/core'
import type { MongoClient, MongoClientOptions } from 'mongodb'

/** How components learn about routed ids and finished invocations written by other processes. */
export type WakeUpMode = 'auto' | 'change-streams' | 'polling'

/**
 * Options of {@link mongoBackend} and of every Mongo component used alone. Give exactly one of
 * `url` (nenc creates the client and closes it) or `client` (yours: nenc never closes it).
 */
export interface MongoBackendOptions {
  /** Connection string, `mongodb://…` or `mongodb+srv://…`. */
  url?: string
  /** An existing client, shared with the rest of your application; nenc never closes it. */
  client?: MongoClient
  /** Extra driver options for the client nenc creates from `url`. @default {} */
  clientOptions?: MongoClientOptions
  /**
   * Database holding nenc's collections.
   * @default the database named in `url` (`mongodb://host/<db>`), else `"nenc"`
   */
  database?: string
  /**
   * First part of every collection name; the app id follows, so apps sharing a database never
   * see each other: collections are named `<collectionPrefix>_<appId>_<name>`.
   * @default "nenc"
   */
  collectionPrefix?: string
  /**
   * Upper bound, in milliseconds, of how long a wake-up (routed id, finished invocation) written
   * by another process may take to reach this one when change streams are not available.
   * @default 100
   */
  pollIntervalMs?: number
  /**
   * Seconds a finished invocation (its status, history and stored outcome) is kept before
   * MongoDB's TTL monitor deletes it; `null` keeps them until `purge()`.
   * @default 86400 (one day)
   */
  retentionSeconds?: number | null
  /**
   * `auto` uses change streams when the server is a replica set or a sharded cluster and polls
   * otherwise; `change-streams` and `polling` force one.
   * @default "auto"
   */
  wakeUps?: WakeUpMode
}

/** Options after validation and defaults; frozen. */
export interface ResolvedMongoOptions {
  readonly url: string | null
  readonly client: MongoClient | null
  readonly clientOptions: MongoClientOptions
  readonly database: string
  readonly collectionPrefix: string
  readonly pollIntervalMs: number
  readonly retentionSeconds: number | null
  readonly wakeUps: WakeUpMode
}

export const DEFAULT_DATABASE = 'nenc'
export const DEFAULT_COLLECTION_PREFIX = 'nenc'
export const DEFAULT_POLL_INTERVAL_MS = 100
export const DEFAULT_RETENTION_SECONDS = 86_400

const SOURCE = 'MongoBackendOptions'
const WAKE_UP_MODES: readonly WakeUpMode[] = ['auto', 'change-streams', 'polling']
// MongoDB forbids these in database names on every platform it runs on.
const BAD_DB_CHARS = /[/\\. "$*<>:|?]/
const PREFIX_PATTERN = /^[A-Za-z0-9_-]+$/

/** The database named in a connection string's path, or null (`mongodb://h1,h2/db?x=y` → `db`). */
export function databaseFromUrl(url: string): string | null {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url)
  if (!m?.[1]) return null
  try {
    return decodeURIComponent(m[1])
  } catch {
    return m[1]
  }
}

function isClient(value: unknown): value is MongoClient {
  // Duck-typed rather than `instanceof`: the application may load its own copy of the driver.
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as MongoClient).db === 'function' &&
    typeof (value as MongoClient).close === 'function'
  )
}

/** Fills defaults and validates; throws {@link ConfigError} naming the bad option. */
export function resolveOptions(input: MongoBackendOptions | undefined): ResolvedMongoOptions {
  if (input === null || typeof input !== 'object') {
    throw new ConfigError('mongodb', SOURCE, 'pass an options object with a `url` or a `client`.')
  }
  const { url, client } = input
  if (url !== undefined && client !== undefined) {
    throw new ConfigError(
      'url',
      SOURCE,
      'give either `url` or `client`, not both (a client you pass is yours; nenc creates and closes one only for `url`).',
    )
  }
  if (url === undefined && client === undefined) {
    throw new ConfigError(
      'url',
      SOURCE,
      'give a connection string (`url`) or an existing MongoClient (`client`).',
    )
  }
  if (url !== undefined && (typeof url !== 'string' || !/^mongodb(\+srv)?:\/\/./.test(url))) {
    throw new ConfigError(
      'url',
      SOURCE,
      'expected a connection string starting with mongodb:// or mongodb+srv://.',
    )
  }
  if (client !== undefined && !isClient(client)) {
    throw new ConfigError('client', SOURCE, 'expected a MongoClient from the `mongodb` package.')
  }
  if (input.clientOptions !== undefined && client !== undefined) {
    throw new ConfigError('clientOptions', SOURCE, 'only applies to a client nenc creates from `url`.')
  }
  if (
    input.clientOptions !== undefined &&
    (typeof input.clientOptions !== 'object' || input.clientOptions === null)
  ) {
    throw new ConfigError('clientOptions', SOURCE, 'expected an object of MongoClient options.')
  }

  const database = input.database ?? (url ? databaseFromUrl(url) : null) ?? DEFAULT_DATABASE
  if (typeof database !== 'string' || database.length === 0 || Buffer.byteLength(database) >= 64) {
    throw new ConfigError('database', SOURCE, 'expected a non-empty database name shorter than 64 bytes.')
  }
  if (BAD_DB_CHARS.test(database) || database.includes('\u0000')) {
    throw new ConfigError(
      'database',
      SOURCE,
      `"${database}" contains a character MongoDB forbids in database names.`,
    )
  }

  const collectionPrefix = input.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX
  if (typeof collectionPrefix !== 'string' || !PREFIX_PATTERN.test(collectionPrefix)) {
    throw new ConfigError(
      'collectionPrefix',
      SOURCE,
      'expected letters, digits, "_" or "-" only (at least one).',
    )
  }
  if (collectionPrefix.toLowerCase().startsWith('system')) {
    throw new ConfigError(
      'collectionPrefix',
      SOURCE,
      'collection names starting with "system" are reserved by MongoDB.',
    )
  }

  const pollIntervalMs = input.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10 || pollIntervalMs > 60_000) {
    throw new ConfigError(
      'pollIntervalMs',
      SOURCE,
      'expected an integer number of milliseconds from 10 to 60000.',
    )
  }

  const retentionSeconds =
    input.retentionSeconds === undefined ? DEFAULT_RETENTION_SECONDS : input.retentionSeconds
  if (retentionSeconds !== null && (!Number.isInteger(retentionSeconds) || retentionSeconds < 1)) {
    throw new ConfigError(
      'retentionSeconds',
      SOURCE,
      'expected a positive integer number of seconds, or null to keep finished invocations until purge().',
    )
  }

  const wakeUps = input.wakeUps ?? 'auto'
  if (!WAKE_UP_MODES.includes(wakeUps)) {
    throw new ConfigError('wakeUps', SOURCE, `expected one of ${WAKE_UP_MODES.join(', ')}.`)
  }

  return Object.freeze({
    url: url ?? null,
    client: client ?? null,
    clientOptions: Object.freeze({ ...(input.clientOptions ?? {}) }),
    database,
    collectionPrefix,
    pollIntervalMs,
    retentionSeconds,
    wakeUps,
  })
}
