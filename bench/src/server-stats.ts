import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import pg from 'pg'
import { round } from './measure.js'

/**
 * Server work per invocation over a timed run: `start()` just before the timer, `stop(n)` just
 * after it (both outside the timed span). Server counters include every client of the server,
 * so on a shared machine the figures are upper bounds; they say how many round trips (or
 * commits) one invocation costs, which bounds throughput at the server's own rate.
 */
export interface ServerMeter {
  start(): Promise<void>
  stop(n: number): Promise<Record<string, number>>
  close(): Promise<void>
}

/**
 * Redis `total_commands_processed` (commands inside Lua scripts count too), round trips and the
 * server's own CPU time (`used_cpu_user + used_cpu_sys`). A round trip is one reply flush
 * (`total_writes_processed`): a pipeline or a script answered in one write counts once, so the
 * figure is the number of times a client waited on the server.
 */
export async function redisMeter(url: string): Promise<ServerMeter> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const read = async () => {
    const info = await redis.info()
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN)
    return {
      commands: field('total_commands_processed'),
      writes: field('total_writes_processed'),
      cpuUs: (field('used_cpu_user') + field('used_cpu_sys')) * 1e6,
    }
  }
  let before = { commands: 0, writes: 0, cpuUs: 0 }
  return {
    async start() {
      before = await read()
    },
    async stop(n) {
      const after = await read()
      return {
        // Minus this meter's first INFO: each INFO reports the counters before its own command
        // and reply, so only the first one falls inside the span (two INFOs in a row differ by 1).
        redisCommandsPerInv: round((after.commands - before.commands - 1) / n, 1),
        redisRoundTripsPerInv: round((after.writes - before.writes - 1) / n, 1),
        redisCpuUsPerInv: round((after.cpuUs - before.cpuUs) / n, 1),
      }
    },
    async close() {
      redis.disconnect()
    },
  }
}

/** Clock ticks per second of /proc's CPU times. */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * CPU used so far by the PostgreSQL server when it runs on this machine (µs), or null: every
 * `postgres` process's own time, plus the postmaster's reaped children — a backend that exited
 * during the span (a pool closing an idle connection) still counts, so the difference of two
 * readings is the server's whole CPU over the span, background processes included.
 */
export function localPgServerCpuUs(): number | null {
  const procs: { pid: number; ppid: number; own: number; reaped: number }[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    const close = stat.lastIndexOf(')')
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue
    const f = stat.slice(close + 2).split(' ') // f[0] = state, f[1] = ppid, f[11..14] = utime stime cutime cstime
    procs.push({
      pid: Number(entry),
      ppid: Number(f[1]),
      own: Number(f[11]) + Number(f[12]),
      reaped: Number(f[13]) + Number(f[14]),
    })
  }
  if (procs.length === 0) return null
  const pids = new Set(procs.map((p) => p.pid))
  const ticks = procs.reduce((t, p) => t + p.own + (pids.has(p.ppid) ? 0 : p.reaped), 0)
  return (ticks * 1e6) / clockTicks
}

/**
 * PostgreSQL write transactions (transaction ids handed out, cluster-wide), WAL bytes and — when
 * the server runs on this machine — its CPU time. The first two are read at once from the
 * server's live state; `pg_stat_database` would lag by up to 10 s, since idle backends publish
 * their statistics late.
 */
export async function pgMeter(url: string): Promise<ServerMeter> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const read = async () => {
    const { rows } = await client.query(
      `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid, pg_current_wal_lsn()::text AS lsn`,
    )
    return { xid: BigInt(rows[0].xid), lsn: rows[0].lsn as string, cpuUs: localPgServerCpuUs() }
  }
  let before: Awaited<ReturnType<typeof read>> = { xid: 0n, lsn: '0/0', cpuUs: null }
  return {
    async start() {
      before = await read()
    },
    async stop(n) {
      const after = await read()
      const { rows } = await client.query('SELECT pg_wal_lsn_diff($1, $2)::float8 AS bytes', [
        after.lsn,
        before.lsn,
      ])
      return {
        pgWriteXactsPerInv: round(Number(after.xid - before.xid) / n, 2),
        pgWalBytesPerInv: Math.round(Number(rows[0].bytes) / n),
        ...(after.cpuUs !== null && before.cpuUs !== null
          ? { pgServerCpuUsPerInv: round((after.cpuUs - before.cpuUs) / n, 1) }
          : {}),
      }
    },
    async close() {
      await client.end()
    },
  }
}

/**
 * A `pg` pool that counts the queries its clients send: each one is a round trip to the server
 * (`pg` does not pipeline), BEGIN and COMMIT included. `pool.query` goes through a client's
 * `query`, so it counts once. Only this pool's queries: other clients of the server do not count.
 */
export function countingPgPool(url: string): { pool: pg.Pool; queries: () => number } {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  let queries = 0
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      queries++
      return query(...args)
    }
  })
  return { pool, queries: () => queries }
}
