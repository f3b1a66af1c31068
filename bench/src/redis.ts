import { loadBackend } from './backends.js'
import { alternate, latencyOf, printComparison, throughputOf } from './compare.js'
import { redisDurability } from './durability.js'
import { errorText, printLine, progress } from './measure.js'
import {
  type LatencyRun,
  type NencServerTarget,
  nencLatency,
  nencThroughput,
  type ThroughputRun,
} from './nenc-server.js'
import type { BenchOptions } from './options.js'
import { bullmqLatency, bullmqThroughput } from './peers/bullmq.js'
import { redisMemoryPerFinished } from './redis-memory.js'
import { redisMeter, type ServerMeter } from './server-stats.js'

const BULLMQ = { name: 'bullmq', version: '6.7.0' }

/** What every Redis scenario needs: sizes, the nenc target (null when it does not load), durability. */
interface RedisContext {
  o: BenchOptions
  url: string
  target: NencServerTarget | null
  /** The same backend without its fused steps (caller and runner), as a mixed backend runs. */
  composed: NencServerTarget | null
  nencSkipped: string | undefined
  durability: { nenc: string; peer: string }
  timeoutMs: number
}

/**
 * Scenario family 2: nenc on @nenc/redis beside BullMQ on the same Redis, in the same run,
 * alternating BullMQ, nenc, BullMQ, nenc. Each side runs its worker in a forked child process.
 */
export async function runRedis(o: BenchOptions): Promise<void> {
  const url = o.redisUrl
  const state = await redisDurability(url)
  const ctx: RedisContext = {
    o,
    url,
    target: null,
    composed: null,
    nencSkipped: undefined,
    durability: { nenc: state, peer: state },
    timeoutMs: o.quick ? 60_000 : 180_000,
  }
  try {
    ctx.target = { kind: 'redis', url, factory: await loadBackend('redis') }
    ctx.composed = { kind: 'redis', url, factory: await loadBackend('redis', 'composed'), mode: 'composed' }
  } catch (err) {
    ctx.nencSkipped = errorText(err)
    progress(`redis: nenc side skipped: ${ctx.nencSkipped}`)
  }
  const meter = await redisMeter(url)
  try {
    for (const concurrency of [50, 1]) await throughput(ctx, concurrency, meter)
  } finally {
    await meter.close()
  }
  await latency(ctx)
  await memoryPerFinished(ctx)
}

/** (4) nenc alone: Redis memory per finished invocation kept, and after retention removed them. */
async function memoryPerFinished(ctx: RedisContext): Promise<void> {
  if (!ctx.target) {
    printLine({
      scenario: 'redis-memory-per-finished',
      backend: 'redis',
      skipped: ctx.nencSkipped ?? 'no nenc side',
    })
    return
  }
  try {
    await redisMemoryPerFinished(ctx.o, ctx.target.factory)
  } catch (err) {
    printLine({ scenario: 'redis-memory-per-finished', backend: 'redis', error: errorText(err) })
  }
}

/** (1) and (2): N no-op invocations routed in bulk, one worker process at `concurrency`. */
async function throughput(ctx: RedisContext, concurrency: number, meter: ServerMeter): Promise<void> {
  const { o, url, target, composed, timeoutMs } = ctx
  const scenario = `redis-throughput-c${concurrency}`
  const base = { n: o.serverN, warmup: o.warmup, timeoutMs, meter }
  const results = await alternate<ThroughputRun>(
    scenario,
    o.runs,
    [
      { name: 'bullmq', run: () => bullmqThroughput(url, { ...base, concurrency }) },
      ...(target
        ? [{ name: 'nenc', run: () => nencThroughput(target, { ...base, maxThreads: concurrency }) }]
        : []),
      // Composed once per scenario: its Redis commands per invocation beside the fused ones.
      ...(composed && concurrency === 50
        ? [
            {
              name: 'nenc-composed',
              run: () => nencThroughput(composed, { ...base, maxThreads: concurrency }),
            },
          ]
        : []),
    ],
    o.budgetMs.redisThroughput,
  )
  printComparison(
    {
      scenario,
      backend: 'redis',
      n: o.serverN,
      nenc: ctx.nencSkipped
        ? { skipped: true }
        : {
            ...throughputOf(results.get('nenc')),
            runner: `ThreadRunner maxThreads=${concurrency}, own process`,
          },
      ...(concurrency === 50 && !ctx.nencSkipped
        ? { nencComposed: throughputOf(results.get('nenc-composed')) }
        : {}),
      peer: {
        ...BULLMQ,
        settings: `addBulk chunks of 1000; one Worker concurrency=${concurrency}, own process; completed jobs kept`,
        ...throughputOf(results.get('bullmq')),
      },
      durability: ctx.durability,
    },
    'throughput',
    ctx.nencSkipped,
  )
}

/** (3): sequential call → result round trips. */
async function latency(ctx: RedisContext): Promise<void> {
  const { o, url, target, timeoutMs } = ctx
  const base = { roundTrips: o.serverRoundTrips, warmup: o.latencyWarmup, timeoutMs }
  const results = await alternate<LatencyRun>(
    'redis-latency',
    o.runs,
    [
      { name: 'bullmq', run: () => bullmqLatency(url, { ...base, concurrency: 50 }) },
      ...(target ? [{ name: 'nenc', run: () => nencLatency(target, { ...base, maxThreads: 50 }) }] : []),
    ],
    o.budgetMs.latency,
  )
  printComparison(
    {
      scenario: 'redis-latency',
      backend: 'redis',
      n: o.serverRoundTrips,
      nenc: ctx.nencSkipped
        ? { skipped: true }
        : {
            ...latencyOf(results.get('nenc')),
            method: 'await (await noop(i)).result(); runner maxThreads=50, own process',
          },
      peer: {
        ...BULLMQ,
        settings: 'queue.add + job.waitUntilFinished(queueEvents); Worker concurrency=50, own process',
        ...latencyOf(results.get('bullmq')),
      },
      durability: ctx.durability,
    },
    'latency',
    ctx.nencSkipped,
  )
}
