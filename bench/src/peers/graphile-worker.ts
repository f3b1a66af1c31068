import { Logger, makeWorkerUtils, run, type WorkerUtils } from 'graphile-worker'
import { type ChildHandle, forkChild } from '../child.js'
import { cpuMark, cpuPerItem } from '../cpu.js'
import {
  latencySummary,
  now,
  perSecond,
  ROUND_TRIP_LIMIT_MS,
  round,
  uniqueSuffix,
  withTimeout,
} from '../measure.js'
import type { LatencyRun, ThroughputRun } from '../nenc-server.js'
import type { ServerMeter } from '../server-stats.js'
import { chunks, type JobCounter } from './counter.js'

/** graphile-worker's batching options: fetch jobs in batches, complete them in batches. */
export const GRAPHILE_BATCHED = { localQueueSize: 500, completeJobBatchDelay: 0 }

interface GraphileWorkerConfig {
  url: string
  identifier: string
  concurrency: number
  batched: boolean
}

/** Warnings and errors only: graphile-worker logs every job at info level by default. */
const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning')
    process.stderr.write(`[graphile-worker ${level}] ${message}\n`)
})

/**
 * Child side: `run({ concurrency })` with a no-op task; with `batched`, its local queue and
 * batched completion. `job:complete` fires once the job's completion is handed to the
 * database (not awaited by graphile-worker itself), so the parent confirms in the table.
 */
export async function startGraphileWorker(
  config: GraphileWorkerConfig,
  counter: JobCounter,
): Promise<() => Promise<void>> {
  const runner = await run({
    connectionString: config.url,
    concurrency: config.concurrency,
    noHandleSignals: true,
    logger: quietLogger,
    taskList: { [config.identifier]: async () => {} },
    ...(config.batched
      ? {
          preset: {
            worker: {
              localQueue: { size: GRAPHILE_BATCHED.localQueueSize },
              completeJobBatchDelay: GRAPHILE_BATCHED.completeJobBatchDelay,
              failJobBatchDelay: GRAPHILE_BATCHED.completeJobBatchDelay,
            },
          },
        }
      : {}),
  })
  runner.events.on('job:complete', ({ job }) => counter.done(1, job.id))
  return () => runner.stop()
}

/** Jobs of `identifier` still in graphile-worker's table (it deletes a job when it completes). */
async function remaining(utils: WorkerUtils, identifier: string, jobId?: string): Promise<number> {
  return utils.withPgClient(async (client) => {
    const { rows } = jobId
      ? await client.query('SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE id = $1', [
          jobId,
        ])
      : await client.query('SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1', [
          identifier,
        ])
    return rows[0].n as number
  })
}

async function untilGone(utils: WorkerUtils, identifier: string, jobId?: string): Promise<void> {
  while ((await remaining(utils, identifier, jobId)) > 0)
    await new Promise((r) => setTimeout(r, jobId ? 0 : 2))
}

/** `workers` worker processes (default 1) on one task identifier; `body` gets the first and all. */
async function withWorker<T>(
  url: string,
  settings: { concurrency: number; batched: boolean; notify?: boolean },
  body: (utils: WorkerUtils, worker: ChildHandle, identifier: string, all: ChildHandle[]) => Promise<T>,
  workers = 1,
): Promise<T> {
  const identifier = `bench_noop_${uniqueSuffix()}`
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietLogger })
  await utils.migrate()
  const all: ChildHandle[] = []
  try {
    for (let k = 0; k < workers; k++)
      all.push(
        await forkChild(
          'peer-worker',
          { peer: 'graphile-worker', url, identifier, ...settings },
          { NO_LOG_SUCCESS: '1' },
        ),
      )
    return await body(utils, all[0]!, identifier, all)
  } finally {
    await Promise.all(all.map((w) => w.stop()))
    await utils.withPgClient((c) =>
      c.query(
        `DELETE FROM graphile_worker._private_jobs WHERE task_id IN
           (SELECT id FROM graphile_worker._private_tasks WHERE identifier = $1)`,
        [identifier],
      ),
    )
    await utils.release()
  }
}

/**
 * `addJobs` in chunks of 1,000 while the child's pool runs them; `ms` ends when the worker has
 * counted N `job:complete` events and no job of the run is left in the table.
 */
export function graphileThroughput(
  url: string,
  o: {
    n: number
    warmup: number
    concurrency: number
    batched: boolean
    timeoutMs: number
    meter?: ServerMeter
    /** Worker processes (default 1), each at `concurrency`. */
    workers?: number
  },
): Promise<ThroughputRun> {
  const workers = o.workers ?? 1
  return withWorker(
    url,
    { concurrency: o.concurrency, batched: o.batched },
    async (utils, worker, identifier, all) => {
      const enqueue = async (from: number, count: number) => {
        for (const ids of chunks(from, count))
          await utils.addJobs(ids.map((i) => ({ identifier, payload: { i } })))
      }
      // One worker counts its completions; several split the jobs unpredictably, so the run then
      // ends when the table holds none of them (graphile-worker deletes a job as it completes).
      const expect = async (n: number) => {
        if (workers === 1) await worker.request({ type: 'expect', n }, 'expecting')
      }
      const done = async (timeoutMs?: number) => {
        if (workers === 1) await worker.next('done', timeoutMs)
        else
          await withTimeout(untilGone(utils, identifier), timeoutMs ?? 120_000, 'graphile-worker jobs gone')
      }
      await expect(o.warmup)
      await enqueue(0, o.warmup)
      await done()
      await untilGone(utils, identifier)
      await expect(o.n)
      await o.meter?.start()
      const cpu = await cpuMark(all)
      const t0 = now()
      await enqueue(o.warmup, o.n)
      const routedMs = now() - t0
      await done(o.timeoutMs)
      const executedMs = now() - t0
      await untilGone(utils, identifier)
      const ms = now() - t0
      const cpuUse = await cpuPerItem(cpu, all, o.n)
      const server = await o.meter?.stop(o.n)
      return {
        ms: round(ms, 1),
        perS: perSecond(o.n, ms),
        routedMs: round(routedMs, 1),
        executedMs: round(executedMs, 1),
        ...cpuUse,
        ...server,
      }
    },
    workers,
  )
}

/**
 * `addJob`, then wait for the worker's `job:complete` for that id (pushed over IPC, as nenc's
 * caller is pushed a notification) and confirm the row is gone — graphile-worker keeps no
 * result, so a deleted row is its "result stored".
 */
export function graphileLatency(
  url: string,
  o: { roundTrips: number; warmup: number; concurrency: number; timeoutMs: number },
): Promise<LatencyRun> {
  return withWorker(
    url,
    { concurrency: o.concurrency, batched: false, notify: true },
    async (utils, worker, identifier) => {
      const finished = new Set<string>()
      let waiting: { id: string; resolve: () => void } | null = null
      worker.on('job', (m) => {
        const id = String(m.id)
        if (waiting?.id === id) waiting.resolve()
        else finished.add(id)
      })
      const roundTrip = async (i: number) => {
        const job = await utils.addJob(identifier, { i })
        if (!finished.delete(job.id)) {
          const done = new Promise<void>((resolve) => (waiting = { id: job.id, resolve }))
          await withTimeout(done, ROUND_TRIP_LIMIT_MS, `graphile-worker round trip ${i}`)
        }
        waiting = null
        await untilGone(utils, identifier, job.id)
      }
      const body = async () => {
        for (let i = 0; i < o.warmup; i++) await roundTrip(i)
        const sample: number[] = []
        for (let i = 0; i < o.roundTrips; i++) {
          const t0 = now()
          await roundTrip(i)
          sample.push(now() - t0)
        }
        return latencySummary(sample)
      }
      return withTimeout(body(), o.timeoutMs, `graphile-worker latency (${o.roundTrips} round trips)`)
    },
  )
}
