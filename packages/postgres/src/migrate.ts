import { createHash } from 'node:crypto'
import { BackendError } from '@nenc/core'
import type { Pool, PoolClient } from 'pg'
import { quoteIdent } from './identifiers.js'
import { LATEST_MIGRATION, MIGRATIONS, type Migration } from './migrations/index.js'
import { BACKEND, isConnectionError, translatePgError } from './pg-errors.js'

/**
 * Brings `schema` to {@link LATEST_MIGRATION} in one transaction under a transaction-scoped
 * advisory lock on the schema name, so several processes starting at once are safe: the first
 * applies the migrations, the others wait for it and then find nothing to do. Each migration
 * inserts its `migrations` row before its statements. A database at a newer migration than this
 * package knows is refused with a `BackendError` saying to upgrade.
 *
 * With `apply: false` nothing is created; the schema must already be at the latest version.
 * Returns the version the schema was at before.
 */
export async function migrate(pool: Pool, schema: string, apply = true): Promise<number> {
  const s = quoteIdent(schema)
  let client: PoolClient
  try {
    client = await pool.connect()
  } catch (err) {
    throw translatePgError(err, `connecting to migrate schema "${schema}"`)
  }
  let broken: unknown
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`nenc.migrate:${schema}`])
    if (apply) {
      if (await outdatedPreRelease(client, s, schema)) {
        // A schema written by an earlier pre-release build, whose migrations were since squashed
        // or rewritten (0.x only: shipped migrations are never edited once 1.0 is out): its
        // tables and functions do not match this code, so it is rebuilt — its data is dropped.
        process.emitWarning(
          `nenc: schema "${schema}" was created by an earlier pre-release build of @nenc/postgres whose migrations differ; rebuilding it (its data is dropped).`,
        )
        await client.query(`DROP SCHEMA ${s} CASCADE`)
      }
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now(),
           checksum text
         )`,
      )
    }
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
      `${s}.migrations`,
    ])
    const current = exists.rows[0]?.t
      ? Number(
          (await client.query<{ v: number }>(`SELECT coalesce(max(version), 0) AS v FROM ${s}.migrations`))
            .rows[0]!.v,
        )
      : 0
    if (current > LATEST_MIGRATION) {
      throw new BackendError(
        BACKEND,
        `schema "${schema}" is at migration ${current} but this version of @nenc/postgres expects ≤ ${LATEST_MIGRATION}; ` +
          'upgrade @nenc/postgres (or point it at another schema).',
      )
    }
    if (!apply && current < LATEST_MIGRATION) {
      throw new BackendError(
        BACKEND,
        `schema "${schema}" is at migration ${current} but this version of @nenc/postgres needs ${LATEST_MIGRATION}; ` +
          'run the migrations (option `migrate: true`) first.',
      )
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue
      await client.query(`INSERT INTO ${s}.migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
        m.version,
        m.name,
        checksumOf(m),
      ])
      for (const statement of m.up(s)) await client.query(statement)
    }
    await client.query('COMMIT')
    return current
  } catch (err) {
    broken = err
    await client.query('ROLLBACK').catch(() => {})
    throw translatePgError(err, `migrating schema "${schema}"`)
  } finally {
    // A client whose connection failed is destroyed rather than returned to the pool.
    client.release(isConnectionError(broken) ? (broken as Error) : undefined)
  }
}

/** A migration's fingerprint: its statements for a placeholder schema, hashed. */
export function checksumOf(m: Migration): string {
  return createHash('sha256').update(m.up('"nenc_checksum"').join(';\n')).digest('hex')
}

/**
 * True when the schema holds a migrations table whose applied migrations do not match this
 * code's: a row without a checksum (written before checksums existed) or with another one.
 */
async function outdatedPreRelease(client: PoolClient, s: string, schema: string): Promise<boolean> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${s}.migrations`])
  if (!exists.rows[0]?.t) return false
  const hasChecksum = await client.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'migrations' AND column_name = 'checksum'`,
    [schema],
  )
  if (hasChecksum.rowCount === 0) return true
  const rows = await client.query<{ version: number; checksum: string | null }>(
    `SELECT version, checksum FROM ${s}.migrations`,
  )
  const known = new Map(MIGRATIONS.map((m) => [m.version, checksumOf(m)]))
  return rows.rows.some((r) => known.has(r.version) && r.checksum !== known.get(r.version))
}
