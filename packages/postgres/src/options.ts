import { ConfigError } from '@nenc/core'
import type { Pool } from 'pg'

/** Options of {@link postgresBackend} and of every PostgreSQL component used alone. */
export interface PostgresBackendOptions {
  /**
   * `postgres://` URL. The backend creates its own pool from it and ends that pool when the last
   * component closes. Give exactly one of `connectionString` and `pool`.
   */
  connectionString?: string
  /**
   * An existing `pg` pool. The backend borrows connections (one is held for LISTEN while
   * something subscribes) and never ends the pool: closing it stays the caller's job.
   */
  pool?: Pool
  /**
   * Schema holding nenc's tables, created and migrated on `init()`. Lower-case letters, digits
   * and `_`. Several apps may share one schema: every row carries its `app_id`.
   * @default 'nenc'
   */
  schema?: string
  /** Size of the pool the backend creates (ignored with `pool`). @default 10 */
  maxConnections?: number
  /**
   * `statement_timeout` of the connections the backend creates, in ms (0 = none; ignored with
   * `pool`). A statement that exceeds it fails with `BackendError`.
   * @default 0
   */
  statementTimeoutMs?: number
  /**
   * Safety net of the pushed wake-ups: how often a subscribed broker checks for due ids even
   * without a NOTIFY, so a lost notification only delays a runner by this much.
   * @default 1000
   */
  pollIntervalMs?: number
  /**
   * Removed: retention is core's on every backend (config `retention.finishedMs` and
   * `retention.intervalMs`, swept from the runners' atomic-service slot). Giving it is a
   * `ConfigError` that says so, rather than a setting silently ignored.
   * @deprecated
   */
  retentionMs?: never
  /** Removed with {@link retentionMs}: config `retention.intervalMs`. @deprecated */
  retentionIntervalMs?: never
  /**
   * Run pending migrations on `init()`. With `false` the backend only checks that the schema is
   * at the version it expects (for deployments that migrate separately).
   * @default true
   */
  migrate?: boolean
  /** First delay before re-connecting a lost LISTEN connection; doubles up to 5 s. @default 100 */
  reconnectDelayMs?: number
  /**
   * Which commits wait for the WAL flush (the disk). `'acknowledged'`: those whose completion
   * a caller relies on — `route()`, transitions into a final status, stores, trigger
   * bookkeeping — while a runner's intermediate steps (retrieve, claim, → RUNNING, outcomes
   * written just before the final transition, registration before its route) commit with
   * `synchronous_commit = off` and are flushed by the next flushing commit, since the WAL is
   * sequential. A server crash can then lose only the last fraction of a second of intermediate
   * steps, which recovery handles like a dead runner (the invocation runs again).
   * `'always'`: every statement waits for its flush (the server's own setting applies).
   * @default 'acknowledged'
   */
  synchronousCommit?: 'acknowledged' | 'always'
}

/** Options after {@link resolveOptions}: defaults filled in, validated, frozen. */
export interface ResolvedPostgresOptions {
  readonly connectionString: string | null
  readonly pool: Pool | null
  readonly schema: string
  readonly maxConnections: number
  readonly statementTimeoutMs: number
  readonly pollIntervalMs: number
  readonly migrate: boolean
  readonly reconnectDelayMs: number
  readonly synchronousCommit: 'acknowledged' | 'always'
}

const SOURCE = 'postgresBackend options'
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

function int(key: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(key, SOURCE, `expected an integer ≥ ${min}, got ${JSON.stringify(value)}`)
  }
  return value
}

/**
 * Fills defaults and validates. Throws `ConfigError` naming the option on bad input: neither or
 * both of `connectionString`/`pool`, a schema name that is not a plain identifier, a negative
 * or non-integer interval.
 */
export function resolveOptions(input: PostgresBackendOptions): ResolvedPostgresOptions {
  if (input === null || typeof input !== 'object') {
    throw new ConfigError('options', SOURCE, 'expected an object with `connectionString` or `pool`')
  }
  const { connectionString, pool } = input
  if (connectionString !== undefined && pool !== undefined) {
    throw new ConfigError(
      'connectionString',
      SOURCE,
      'give either `connectionString` or `pool`, not both (the backend closes only pools it creates)',
    )
  }
  if (connectionString === undefined && pool === undefined) {
    throw new ConfigError('connectionString', SOURCE, 'give `connectionString` (a postgres:// URL) or `pool`')
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    throw new ConfigError('connectionString', SOURCE, 'expected a non-empty postgres:// URL')
  }
  if (pool !== undefined && (pool === null || typeof (pool as Pool).connect !== 'function')) {
    throw new ConfigError('pool', SOURCE, 'expected a pg Pool')
  }
  const schema = input.schema ?? 'nenc'
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(
      'schema',
      SOURCE,
      `"${String(schema)}" is not a plain identifier (lower-case letters, digits and _, at most 63)`,
    )
  }
  for (const removed of ['retentionMs', 'retentionIntervalMs'] as const) {
    if (input[removed] !== undefined)
      throw new ConfigError(
        removed,
        SOURCE,
        'removed: retention is configured in the app on every backend (config retention.finishedMs, retention.intervalMs)',
      )
  }
  if (input.migrate !== undefined && typeof input.migrate !== 'boolean') {
    throw new ConfigError('migrate', SOURCE, 'expected a boolean')
  }
  const synchronousCommit = input.synchronousCommit ?? 'acknowledged'
  if (synchronousCommit !== 'acknowledged' && synchronousCommit !== 'always') {
    throw new ConfigError(
      'synchronousCommit',
      SOURCE,
      `expected 'acknowledged' or 'always', got ${JSON.stringify(synchronousCommit)}`,
    )
  }
  return Object.freeze({
    connectionString: connectionString ?? null,
    pool: pool ?? null,
    schema,
    maxConnections: int('maxConnections', input.maxConnections, 10, 2),
    statementTimeoutMs: int('statementTimeoutMs', input.statementTimeoutMs, 0, 0),
    pollIntervalMs: int('pollIntervalMs', input.pollIntervalMs, 1000, 10),
    migrate: input.migrate ?? true,
    reconnectDelayMs: int('reconnectDelayMs', input.reconnectDelayMs, 100, 1),
    synchronousCommit,
  })
}
