import { type BackendFactory, loadBackend } from './backends.js'
import { alternate, latencyOf, printComparison, type SideResult, throughputOf } from './compare.js'
import { pgDurability, unloggedTables } from './durability.js'
import { errorText, progress } from './measure.js'
import { type LatencyRun, nencLatency, nencThroughput, type ThroughputRun } from './nenc-server.js'
import type { BenchOptions } from './options.js'
import { GRAPHILE_BATCHED, graphileLatency, graphileThroughput } from './peers/graphile-worker.js'
import { pgBossThroughput } from './peers/pg-boss.js'
import { pgMeter } from './server-stats.js'

const PG_BOSS_BATCH_SIZES = [1000, 5000]
const PG_BOSS_WORKERS = 2

/**
 * Scenario family 3: nenc on @nenc/postgres beside graphile-worker and pg-boss on the same
 * PostgreSQL, in the same run, alternating peer and nenc runs. Every worker has its own process.
 */
export async function runPostgres(o: BenchOptions): Promise<void> {
  const url = o.pgUrl
  let factory: BackendFactory | null = null
  let nencSkipped: string | undefined
  try {
    factory = await loadBackend('postgres')
  } catch (err) {
    nencSkipped = errorText(err)
    progress(`postgres: nenc side skipped: ${nencSkipped}`)
  }
  const target = factory ? { kind: 'postgres' as const, url, factory } : null
  const timeoutMs = o.quick ? 60_000 : 180_000
  const meter = await pgMeter(url)
  const base = { n: o.serverN, warmup: o.warmup, timeoutMs, meter }

  const sides = [
    {
      name: 'graphile-worker',
      run: () => graphileThroughput(url, { ...base, concurrency: 10, batched: false }),
    },
    ...(target ? [{ name: 'nenc-c10', run: () => nencThroughput(target, { ...base, maxThreads: 10 }) }] : []),
    {
      name: 'graphile-worker-batched',
      run: () => graphileThroughput(url, { ...base, concurrency: 10, batched: true }),
    },
    ...(target ? [{ name: 'nenc-c50', run: () => nencThroughput(target, { ...base, maxThreads: 50 }) }] : []),
    ...PG_BOSS_BATCH_SIZES.map((batchSize) => ({
      name: `pg-boss-${batchSize}`,
      run: () => pgBossThroughput(url, { ...base, batchSize, workers: PG_BOSS_WORKERS }),
    })),
  ]
  const results = await alternate<ThroughputRun>('postgres-throughput', o.runs, sides).finally(() =>
    meter.close(),
  )
  const durability = await describeDurability(url)

  const nenc = (key: string, threads: number) =>
    nencSkipped
      ? { skipped: true }
      : { ...throughputOf(results.get(key)), runner: `ThreadRunner maxThreads=${threads}, own process` }
  const graphile = (key: 'graphile-worker' | 'graphile-worker-batched', settings: string) => ({
    name: 'graphile-worker',
    durabilityKey: key,
    version: '0.17.3',
    settings,
    ...throughputOf(results.get(key)),
  })
  type PeerKey = 'graphile-worker' | 'graphile-worker-batched' | 'pg-boss'
  const line = (
    scenario: string,
    nencKey: string,
    threads: number,
    { durabilityKey, ...peer }: { name: string; durabilityKey: PeerKey; [k: string]: unknown },
  ) =>
    printComparison(
      {
        scenario,
        backend: 'postgres',
        n: o.serverN,
        nenc: nenc(nencKey, threads),
        peer,
        durability: { nenc: durability.nenc, peer: durability[durabilityKey] },
      },
      'throughput',
      nencSkipped,
    )
  line(
    'postgres-throughput-c10',
    'nenc-c10',
    10,
    graphile('graphile-worker', 'addJobs chunks of 1000; run({ concurrency: 10 }) defaults, own process'),
  )
  line(
    'postgres-throughput-c10-batched',
    'nenc-c10',
    10,
    graphile(
      'graphile-worker-batched',
      `extra info: run({ concurrency: 10 }) with localQueue.size=${GRAPHILE_BATCHED.localQueueSize}, ` +
        'completeJobBatchDelay=0 (trades crash safety for speed)',
    ),
  )
  line('postgres-throughput-c50', 'nenc-c50', 50, pgBossBest(results))

  const latencySides = [
    {
      name: 'graphile-worker',
      run: () =>
        graphileLatency(url, {
          roundTrips: o.serverRoundTrips,
          warmup: o.latencyWarmup,
          concurrency: 10,
          timeoutMs,
        }),
    },
    ...(target
      ? [
          {
            name: 'nenc',
            run: () =>
              nencLatency(target, {
                roundTrips: o.serverRoundTrips,
                warmup: o.latencyWarmup,
                maxThreads: 10,
                timeoutMs,
              }),
          },
        ]
      : []),
  ]
  const latency = await alternate<LatencyRun>('postgres-latency', o.runs, latencySides)
  printComparison(
    {
      scenario: 'postgres-latency',
      backend: 'postgres',
      n: o.serverRoundTrips,
      nenc: nencSkipped
        ? { skipped: true }
        : {
            ...latencyOf(latency.get('nenc')),
            method: 'await (await noop(i)).result(); runner maxThreads=10, own process',
          },
      peer: {
        name: 'graphile-worker',
        version: '0.17.3',
        settings:
          "addJob, then the worker's job:complete event pushed over IPC, then a query confirming the job row is gone; concurrency 10, own process",
        ...latencyOf(latency.get('graphile-worker')),
      },
      durability: { nenc: durability.nenc, peer: durability['graphile-worker'] },
      note: 'pg-boss has no round-trip figure: its worker sleeps out pollingIntervalSeconds (≥ 0.5 s) between fetches',
    },
    'latency',
    nencSkipped,
  )
}

/** pg-boss at the batch size whose median throughput was best. */
function pgBossBest(results: Map<string, SideResult<ThroughputRun>>) {
  const bySize = PG_BOSS_BATCH_SIZES.map((size) => ({
    size,
    summary: throughputOf(results.get(`pg-boss-${size}`)),
  }))
  const best = bySize.reduce((a, b) =>
    (b.summary.perS as number) > ((a.summary.perS as number) ?? 0) ? b : a,
  )
  return {
    name: 'pg-boss',
    durabilityKey: 'pg-boss' as const,
    version: '10.4.2',
    settings:
      `insert chunks of 1000, ANALYZE of the queue partition; ${PG_BOSS_WORKERS} × work({ batchSize: ${best.size}, ` +
      'pollingIntervalSeconds: 0.5 }), own process; best batch size reported',
    ...best.summary,
    byBatchSize: Object.fromEntries(bySize.map((b) => [b.size, b.summary.perS ?? b.summary.error])),
  }
}

/** What survives a crash on each side, from the server settings and the tables' persistence. */
async function describeDurability(url: string): Promise<{
  server: string
  nenc: string
  'graphile-worker': string
  'graphile-worker-batched': string
  'pg-boss': string
}> {
  const { server, durable } = await pgDurability(url)
  const unlogged = await unloggedTables(url)
  const of = (schemas: string[], extra = '') => {
    const mine = unlogged.filter((t) => schemas.some((s) => t.startsWith(`${s}.`)))
    if (!durable) return `not durable: ${server}`
    if (mine.length) return `not durable: unlogged tables ${mine.join(', ')} (${server})`
    return `durable: ${server}${extra}`
  }
  const peers = new Set(['pgboss', 'graphile_worker'])
  const nencTables = unlogged.filter((t) => !peers.has(t.split('.')[0]!))
  return {
    server,
    nenc: nencTables.length
      ? `not durable: unlogged tables ${nencTables.join(', ')} (${server})`
      : durable
        ? `durable for what a caller relies on (${server}, no unlogged tables): route and final ` +
          "transitions wait for the WAL flush; a runner's intermediate steps commit with " +
          "synchronous_commit=off (synchronousCommit: 'acknowledged'), so a crash can lose their last " +
          'fraction of a second and recovery runs those invocations again'
        : `not durable: ${server}`,
    'graphile-worker': of(['graphile_worker']),
    'graphile-worker-batched': of(
      ['graphile_worker'],
      '; but jobs sit locked in its local queue and completions wait in memory for the batch write',
    ),
    'pg-boss': of(['pgboss'], '; completion written after the handler, not awaited by the worker'),
  }
}
