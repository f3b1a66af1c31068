import pg from 'pg'
import PgBoss from 'pg-boss'
import { type ChildHandle, forkChild } from '../child.js'
import { cpuMark, cpuPerItem } from '../cpu.js'
import { now, perSecond, round, uniqueSuffix } from '../measure.js'
import type { ThroughputRun } from '../nenc-server.js'
import type { ServerMeter } from '../server-stats.js'
import { chunks, type JobCounter } from './counter.js'

/** pg-boss's shortest allowed poll: its worker sleeps this out between fetches. */
const POLLING_INTERVAL_S = 0.5

interface PgBossWorkerConfig {
  url: string
  queue: string
  batchSize: number
  workers: number
}

/**
 * Child side: `workers` × `boss.work(queue, { batchSize, pollingIntervalSeconds: 0.5 })` with a
 * no-op batch handler. pg-boss completes a batch after the handler returns, without awaiting
 * it, so the parent confirms the completed rows in the table.
 */
export async function startPgBossWorker(
  config: PgBossWorkerConfig,
  counter: JobCounter,
): Promise<() => Promise<void>> {
  const boss = new PgBoss({ connectionString: config.url, supervise: false, schedule: false, migrate: false })
  boss.on('error', (err) => process.stderr.write(`[pg-boss worker] ${err.message}\n`))
  await boss.start()
  for (let w = 0; w < config.workers; w++) {
    await boss.work(
      config.queue,
      { batchSize: config.batchSize, pollingIntervalSeconds: POLLING_INTERVAL_S },
      async (jobs) => {
        counter.done(jobs.length)
      },
    )
  }
  return () => boss.stop({ graceful: true, wait: true })
}

/**
 * `insert` in chunks of 1,000, `ANALYZE` of the queue's partition (a fresh partition without
 * statistics gets a nested-loop plan 3× slower), then wait until the worker ran N jobs and N
 * rows are `completed`. The time covers the insert, the ANALYZE and the run.
 */
export async function pgBossThroughput(
  url: string,
  o: {
    n: number
    warmup: number
    batchSize: number
    workers: number
    timeoutMs: number
    meter?: ServerMeter
  },
): Promise<ThroughputRun> {
  const queue = `bench_${uniqueSuffix()}`
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false })
  boss.on('error', (err) => process.stderr.write(`[pg-boss] ${err.message}\n`))
  const client = new pg.Client({ connectionString: url })
  let worker: ChildHandle | null = null
  let partition: string | undefined
  await boss.start()
  await client.connect()
  try {
    await boss.createQueue(queue)
    partition = (await client.query('SELECT partition_name FROM pgboss.queue WHERE name = $1', [queue]))
      .rows[0]?.partition_name as string | undefined
    worker = await forkChild('peer-worker', {
      peer: 'pg-boss',
      url,
      queue,
      batchSize: o.batchSize,
      workers: o.workers,
    })
    const completed = async () =>
      (
        await client.query(
          "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'",
          [queue],
        )
      ).rows[0].n as number
    const runBatch = async (from: number, count: number, target: number, measure: boolean) => {
      const meter = measure ? o.meter : undefined
      await worker!.request({ type: 'expect', n: count }, 'expecting')
      await meter?.start()
      const cpu = measure ? await cpuMark(worker!) : null
      const t0 = now()
      for (const ids of chunks(from, count)) await boss.insert(ids.map((i) => ({ name: queue, data: { i } })))
      const routedMs = now() - t0
      await client.query(`ANALYZE pgboss.${partition ? `"${partition}"` : 'job'}`)
      const analyzedMs = now() - t0
      await worker!.next('done', o.timeoutMs)
      while ((await completed()) < target) await new Promise((r) => setTimeout(r, 2))
      const ms = now() - t0
      const cpuUse = cpu ? await cpuPerItem(cpu, worker!, count) : {}
      return { ms, routedMs, analyzedMs, server: { ...cpuUse, ...(await meter?.stop(count)) } }
    }
    await runBatch(0, o.warmup, o.warmup, false)
    const r = await runBatch(o.warmup, o.n, o.warmup + o.n, true)
    return {
      ms: round(r.ms, 1),
      perS: perSecond(o.n, r.ms),
      routedMs: round(r.routedMs, 1),
      analyzeDoneMs: round(r.analyzedMs, 1),
      batchSize: o.batchSize,
      ...r.server,
    }
  } finally {
    await worker?.stop()
    // pg-boss 10.4's deleteQueue fails once the partition holds completed jobs (its q_fkey
    // references the queue row), so drop the partition first.
    if (partition) await client.query(`DROP TABLE IF EXISTS pgboss."${partition}"`)
    await client.query('DELETE FROM pgboss.queue WHERE name = $1', [queue])
    await boss.stop({ graceful: false, wait: true }).catch(() => {})
    await client.end()
  }
}
