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

/** The PostgreSQL settings that decide whether a committed row survives a crash. */
export async function pgDurability(url: string): Promise<{ server: string; durable: boolean }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const fsync = (await client.query('SHOW fsync')).rows[0].fsync as string
    const sync = (await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit as string
    const durable = fsync === 'on' && sync !== 'off'
    return { server: `fsync=${fsync}, synchronous_commit=${sync}`, durable }
  } finally {
    await client.end()
  }
}

/** Unlogged user tables (`schema.table`): they are emptied after a crash whatever fsync says. */
export async function unloggedTables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p')
         AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    )
    return rows.map((r) => r.name as string)
  } finally {
    await client.end()
  }
}
