import { Redis } from 'ioredis'
import pg from 'pg'

/** Whether this Redis keeps data across a crash: AOF on, or RDB snapshots (which lose the last seconds). */
export async function redisDurability(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    const [, aof] = (await redis.config('GET', 'appendonly')) as string[]
    const [, fsync] = (await redis.config('GET', 'appendfsync')) as string[]
    const [, save] = (await redis.config('GET', 'save')) as string[]
    if (aof === 'yes') return `durable up to appendfsync=${fsync} (Redis AOF on)`
    if (save) return `not durable: Redis without AOF (RDB snapshots "${save}" lose recent writes)`
    return 'not durable: Redis without persistence (appendonly=no, save="")'
  } finally {
    redis.disconnect()
  }
}

/** What survives a crash on each PostgreSQL side of the bench, one sentence each. */
export interface PgDurability {
  nenc: string
  'graphile-worker': string
  'graphile-worker-batched': string
  'pg-boss': string
}

/**
 * Reads `fsync`, `synchronous_commit` and the unlogged tables (emptied after a crash whatever
 * fsync says) of each side's schema, and adds what each side's own commit policy gives up.
 */
export async function pgDurability(url: string, nencSchema: string): Promise<PgDurability> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const fsync = (await client.query('SHOW fsync')).rows[0].fsync as string
    const sync = (await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit as string
    const { rows } = await client.query(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p')`,
    )
    const server = `fsync=${fsync}, synchronous_commit=${sync}`
    const of = (schema: string, durableText: string) => {
      const unlogged = rows.filter((r) => r.schema === schema).map((r) => `${r.schema}.${r.name}`)
      if (fsync !== 'on' || sync === 'off') return `not durable: ${server}`
      if (unlogged.length) return `not durable: unlogged tables ${unlogged.join(', ')} (${server})`
      return `${durableText} (${server}, no unlogged tables)`
    }
    return {
      nenc: of(
        nencSchema,
        "durable for what a caller relies on: route and final transitions wait for the WAL flush; a runner's " +
          "intermediate steps commit with synchronous_commit=off (synchronousCommit: 'acknowledged'), so a " +
          'crash can lose their last fraction of a second and recovery runs those invocations again',
      ),
      'graphile-worker': of('graphile_worker', 'durable: every step waits for the WAL flush'),
      'graphile-worker-batched': of(
        'graphile_worker',
        'durable rows, but jobs sit locked in its local queue and completions wait in memory for the batch write',
      ),
      'pg-boss': of(
        'pgboss',
        'durable: completion written after the handler returns, not awaited by the worker',
      ),
    }
  } finally {
    await client.end()
  }
}
