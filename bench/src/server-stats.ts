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
 * Redis `total_commands_processed` (commands inside Lua scripts count too) and the server's own
 * CPU time (`used_cpu_user + used_cpu_sys`).
 */
export async function redisMeter(url: string): Promise<ServerMeter> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const read = async () => {
    const info = await redis.info()
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN)
    return {
      commands: field('total_commands_processed'),
      cpuUs: (field('used_cpu_user') + field('used_cpu_sys')) * 1e6,
    }
  }
  let before = { commands: 0, cpuUs: 0 }
  return {
    async start() {
      before = await read()
    },
    async stop(n) {
      const after = await read()
      return {
        // Minus this meter's own two INFO commands.
        redisCommandsPerInv: round((after.commands - before.commands - 2) / n, 1),
        redisCpuUsPerInv: round((after.cpuUs - before.cpuUs) / n, 1),
      }
    },
    async close() {
      redis.disconnect()
    },
  }
}

/** PostgreSQL commits and row writes in this database, from `pg_stat_database`. */
export async function pgMeter(url: string): Promise<ServerMeter> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const read = async () => {
    const { rows } = await client.query(
      `SELECT xact_commit + xact_rollback AS xacts, tup_inserted + tup_updated + tup_deleted AS writes
       FROM pg_stat_database WHERE datname = current_database()`,
    )
    return { xacts: Number(rows[0].xacts), writes: Number(rows[0].writes) }
  }
  let before = { xacts: 0, writes: 0 }
  return {
    async start() {
      before = await read()
    },
    async stop(n) {
      // Backends publish their statistics at most once a second: let the run's last ones land.
      await new Promise((r) => setTimeout(r, 1100))
      const after = await read()
      return {
        pgCommitsPerInv: round((after.xacts - before.xacts - 1) / n, 2),
        pgRowWritesPerInv: round((after.writes - before.writes) / n, 2),
      }
    },
    async close() {
      await client.end()
    },
  }
}
