import { type BackendFactory, loadBackend } from './backends.js'
import { alternate, latencyOf, printComparison, throughputOf } from './compare.js'
import { redisDurability } from './durability.js'
import { errorText, progress } from './measure.js'
import { type LatencyRun, nencLatency, nencThroughput, type ThroughputRun } from './nenc-server.js'
import type { BenchOptions } from './options.js'
import { bullmqLatency, bullmqThroughput } from './peers/bullmq.js'

/**
 * Scenario family 2: nenc on @nenc/redis beside BullMQ on the same Redis, in the same run,
 * alternating BullMQ, nenc, BullMQ, nenc. Each side runs its worker in a forked child process.
 */
export async function runRedis(o: BenchOptions): Promise<void> {
  const url = o.redisUrl
  const redisState = await redisDurability(url)
  const durability = { nenc: redisState, peer: redisState }
  let factory: BackendFactory | null = null
  let nencSkipped: string | undefined
  try {
    factory = await loadBackend('redis')
  } catch (err) {
    nencSkipped = errorText(err)
    progress(`redis: nenc side skipped: ${nencSkipped}`)
  }
  const target = factory ? { kind: 'redis' as const, url, factory } : null
  const timeoutMs = o.quick ? 60_000 : 180_000

  for (const concurrency of [50, 1]) {
    const scenario = `redis-throughput-c${concurrency}`
    const sides = [
      {
        name: 'bullmq',
        run: () => bullmqThroughput(url, { n: o.serverN, warmup: o.warmup, concurrency, timeoutMs }),
      },
      ...(target
        ? [
            {
              name: 'nenc',
              run: () =>
                nencThroughput(target, {
                  n: o.serverN,
                  warmup: o.warmup,
                  maxThreads: concurrency,
                  timeoutMs,
                }),
            },
          ]
        : []),
    ]
    const results = await alternate<ThroughputRun>(scenario, o.runs, sides)
    printComparison(
      {
        scenario,
        backend: 'redis',
        n: o.serverN,
        nenc: nencSkipped
          ? { skipped: true }
          : {
              ...throughputOf(results.get('nenc')),
              runner: `ThreadRunner maxThreads=${concurrency}, own process`,
            },
        peer: {
          name: 'bullmq',
          version: '6.7.0',
          settings: `addBulk chunks of 1000; one Worker concurrency=${concurrency}, own process; completed jobs kept`,
          ...throughputOf(results.get('bullmq')),
        },
        durability,
      },
      'throughput',
      nencSkipped,
    )
  }

  const scenario = 'redis-latency'
  const latencySides = [
    {
      name: 'bullmq',
      run: () =>
        bullmqLatency(url, { roundTrips: o.serverRoundTrips, warmup: o.warmup, concurrency: 50, timeoutMs }),
    },
    ...(target
      ? [
          {
            name: 'nenc',
            run: () =>
              nencLatency(target, {
                roundTrips: o.serverRoundTrips,
                warmup: o.warmup,
                maxThreads: 50,
                timeoutMs,
              }),
          },
        ]
      : []),
  ]
  const results = await alternate<LatencyRun>(scenario, o.runs, latencySides)
  printComparison(
    {
      scenario,
      backend: 'redis',
      n: o.serverRoundTrips,
      nenc: nencSkipped
        ? { skipped: true }
        : {
            ...latencyOf(results.get('nenc')),
            method: 'await (await noop(i)).result(); runner in own process',
          },
      peer: {
        name: 'bullmq',
        version: '6.7.0',
        settings: 'queue.add + job.waitUntilFinished(queueEvents); Worker concurrency=50, own process',
        ...latencyOf(results.get('bullmq')),
      },
      durability,
    },
    'latency',
    nencSkipped,
  )
}
