import { Queue, QueueEvents, Worker } from 'bullmq'
import { forkChild } from '../child.js'
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

/** BullMQ takes host/port, not a URL. */
function connection(url: string): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port || 6379) }
}

interface BullmqWorkerConfig {
  url: string
  queue: string
  concurrency: number
}

/**
 * Child side: one `Worker` with a no-op processor at the scenario's concurrency; BullMQ's
 * `completed` event fires after the job was moved to completed (its return value stored).
 */
export async function startBullmqWorker(
  config: BullmqWorkerConfig,
  counter: JobCounter,
): Promise<() => Promise<void>> {
  const worker = new Worker(config.queue, async (job) => job.data.i, {
    connection: connection(config.url),
    concurrency: config.concurrency,
  })
  worker.on('completed', (job) => counter.done(1, job.id))
  worker.on('error', (err) => process.stderr.write(`[bullmq worker] ${err.message}\n`))
  await worker.waitUntilReady()
  return () => worker.close()
}

async function withQueue<T>(
  url: string,
  concurrency: number,
  body: (queue: Queue, worker: Awaited<ReturnType<typeof forkChild>>, name: string) => Promise<T>,
): Promise<T> {
  const name = `bench-bullmq-${uniqueSuffix()}`
  const worker = await forkChild('peer-worker', { peer: 'bullmq', url, queue: name, concurrency })
  const queue = new Queue(name, { connection: connection(url) })
  try {
    return await body(queue, worker, name)
  } finally {
    await worker.stop()
    await queue.obliterate({ force: true })
    await queue.close()
  }
}

/**
 * `addBulk` in chunks of 1,000 while the child's Worker runs them; `ms` ends when the worker
 * has counted N `completed` events. Completed jobs are kept (BullMQ's default), so every
 * return value is stored, as nenc stores every result.
 */
export function bullmqThroughput(
  url: string,
  o: { n: number; warmup: number; concurrency: number; timeoutMs: number; meter?: ServerMeter },
): Promise<ThroughputRun> {
  return withQueue(url, o.concurrency, async (queue, worker) => {
    const enqueue = async (from: number, count: number) => {
      for (const ids of chunks(from, count))
        await queue.addBulk(ids.map((i) => ({ name: 'noop', data: { i } })))
    }
    await worker.request({ type: 'expect', n: o.warmup }, 'expecting')
    await enqueue(0, o.warmup)
    await worker.next('done')
    await worker.request({ type: 'expect', n: o.n }, 'expecting')
    await o.meter?.start()
    const cpu = await cpuMark(worker)
    const t0 = now()
    await enqueue(o.warmup, o.n)
    const routedMs = now() - t0
    await worker.next('done', o.timeoutMs)
    const ms = now() - t0
    const cpuUse = await cpuPerItem(cpu, worker, o.n)
    const server = await o.meter?.stop(o.n)
    return { ms: round(ms, 1), perS: perSecond(o.n, ms), routedMs: round(routedMs, 1), ...cpuUse, ...server }
  })
}

/** `queue.add` then `job.waitUntilFinished(queueEvents)`, one at a time; jobs kept on completion. */
export function bullmqLatency(
  url: string,
  o: { roundTrips: number; warmup: number; concurrency: number; timeoutMs: number },
): Promise<LatencyRun> {
  return withQueue(url, o.concurrency, async (queue, _worker, name) => {
    const events = new QueueEvents(name, { connection: connection(url) })
    try {
      await events.waitUntilReady()
      const roundTrip = async (i: number) => {
        const job = await queue.add('noop', { i })
        const value = await job.waitUntilFinished(events, ROUND_TRIP_LIMIT_MS)
        if (value !== i) throw new Error(`BullMQ round trip ${i} returned ${value}`)
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
      return await withTimeout(body(), o.timeoutMs, `BullMQ latency (${o.roundTrips} round trips)`)
    } finally {
      await events.close()
    }
  })
}
