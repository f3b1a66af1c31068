import { loadBackend } from './backends.js'
import { alternate, latencyOf, printComparison, type SideResult, throughputOf } from './compare.js'
import { type PgDurability, pgDurability } from './durability.js'
import { errorText, progress } from './measure.js'
import {
  type LatencyRun,
  type NencServerTarget,
  nencLatency,
  nencThroughput,
  type ThroughputRun,
} from './nenc-server.js'
import type { BenchOptions } from './options.js'
import { GRAPHILE_BATCHED, graphileLatency, graphileThroughput } from './peers/graphile-worker.js'
import { pgBossThroughput } from './peers/pg-boss.js'
import { runPostgresAnatomy } from './postgres-anatomy.js'
import { pgMeter } from './server-stats.js'

const PG_BOSS_BATCH_SIZES = [1000, 5000]
/**
 * nenc's batched runs hold 500 invocations per runner, as graphile-worker's batched mode
 * (`localQueue.size` 500): slots plus `prefetch`.
 */
const LOCAL_QUEUE = 500
const PG_BOSS_WORKERS = 2
const GRAPHILE = { name: 'graphile-worker', version: '0.17.3' }

interface PgContext {
  o: BenchOptions
  url: string
  target: NencServerTarget | null
  nencSkipped: string | undefined
  durability: PgDurability
  timeoutMs: number
}

/**
 * Scenario family 3: nenc on @nenc/postgres beside graphile-worker and pg-boss on the same
 * PostgreSQL, in the same run, alternating peer and nenc runs. Every worker has its own process.
 */
export async function runPostgres(o: BenchOptions): Promise<void> {
  const url = o.pgUrl
  const ctx: PgContext = {
    o,
    url,
    target: null,
    nencSkipped: undefined,
    durability: await pgDurability(url, 'nenc_bench'),
    timeoutMs: o.quick ? 60_000 : 180_000,
  }
  try {
    ctx.target = { kind: 'postgres', url, factory: await loadBackend('postgres') }
  } catch (err) {
    ctx.nencSkipped = errorText(err)
    progress(`postgres: nenc side skipped: ${ctx.nencSkipped}`)
  }
  await throughput(ctx)
  await scale(ctx)
  await latency(ctx)
  await runPostgresAnatomy(o, ctx.target, ctx.nencSkipped)
}

/** Runner processes in the multi-runner scenario, each with 10 slots (graphile-worker: concurrency 10). */
const SCALE_RUNNERS = 4
/** Invocations in the large-table scenario (`--quick`: 5,000). */
const LARGE_N = 100_000
const SCALE_BUDGET_MS = 120_000

/**
 * Scaling out and a larger table, side by side: 4 runner processes on one database (nenc 4 × 10
 * slots; graphile-worker 4 × concurrency 10, which its docs publish multi-instance figures for),
 * then 100,000 invocations at once (nenc 50 slots; pg-boss at batch size 5,000), which shows how
 * each one's cost grows with the rows it keeps (nenc keeps every invocation, its history and its
 * result until retention removes them).
 */
async function scale(ctx: PgContext): Promise<void> {
  const { o, url, target } = ctx
  const meter = await pgMeter(url)
  const n = o.serverN
  const largeN = o.quick ? 5_000 : LARGE_N
  const timeoutMs = ctx.timeoutMs * 2
  const base = { warmup: o.warmup, timeoutMs, meter }
  const results = await alternate<ThroughputRun>(
    'postgres-scale',
    o.quick ? 1 : Math.min(o.runs, 2),
    [
      {
        name: 'graphile-worker-4',
        run: () =>
          graphileThroughput(url, { ...base, n, concurrency: 10, batched: false, workers: SCALE_RUNNERS }),
      },
      ...(target
        ? [
            {
              name: 'nenc-4',
              run: () => nencThroughput(target, { ...base, n, maxThreads: 10, runners: SCALE_RUNNERS }),
            },
          ]
        : []),
      {
        name: 'pg-boss-large',
        run: () => pgBossThroughput(url, { ...base, n: largeN, batchSize: 5000, workers: PG_BOSS_WORKERS }),
      },
      ...(target
        ? [{ name: 'nenc-large', run: () => nencThroughput(target, { ...base, n: largeN, maxThreads: 50 }) }]
        : []),
    ],
    SCALE_BUDGET_MS,
  ).finally(() => meter.close())
  printComparison(
    {
      scenario: `postgres-throughput-${SCALE_RUNNERS}-runners`,
      backend: 'postgres',
      n,
      nenc: ctx.nencSkipped
        ? { skipped: true }
        : {
            ...throughputOf(results.get('nenc-4')),
            runner: `${SCALE_RUNNERS} runner processes, each ThreadRunner maxThreads=10, one caller process`,
          },
      peer: {
        ...GRAPHILE,
        settings: `addJobs chunks of 1000; ${SCALE_RUNNERS} worker processes, each run({ concurrency: 10 }) defaults`,
        ...throughputOf(results.get('graphile-worker-4')),
      },
      durability: { nenc: ctx.durability.nenc, peer: ctx.durability['graphile-worker'] },
    },
    'throughput',
    ctx.nencSkipped,
  )
  printComparison(
    {
      scenario: 'postgres-throughput-c50-large',
      backend: 'postgres',
      n: largeN,
      nenc: ctx.nencSkipped
        ? { skipped: true }
        : { ...throughputOf(results.get('nenc-large')), runner: 'ThreadRunner maxThreads=50, own process' },
      peer: {
        name: 'pg-boss',
        version: '10.4.2',
        settings: `insert chunks of 1000; ${PG_BOSS_WORKERS} × work({ batchSize: 5000, pollingIntervalSeconds: 0.5 }), own process`,
        ...throughputOf(results.get('pg-boss-large')),
      },
      durability: { nenc: ctx.durability.nenc, peer: ctx.durability['pg-boss'] },
    },
    'throughput',
    ctx.nencSkipped,
  )
}

/**
 * N no-op invocations routed in bulk, one worker process: nenc at 10 and 50 slots, graphile-worker
 * at concurrency 10 (defaults, then batched), pg-boss at two batch sizes, in one alternation.
 */
async function throughput(ctx: PgContext): Promise<void> {
  const { o, url, target, timeoutMs } = ctx
  const meter = await pgMeter(url)
  const base = { n: o.serverN, warmup: o.warmup, timeoutMs, meter }
  const nencSide = (threads: number) =>
    target
      ? [
          { name: `nenc-c${threads}`, run: () => nencThroughput(target, { ...base, maxThreads: threads }) },
          {
            name: `nenc-c${threads}-inprocess`,
            run: () => nencThroughput(target, { ...base, maxThreads: threads, inProcess: true }),
          },
        ]
      : []
  const nencBatched = (threads: number) =>
    target
      ? [
          {
            name: `nenc-c${threads}-prefetch`,
            run: () =>
              nencThroughput(target, { ...base, maxThreads: threads, prefetch: LOCAL_QUEUE - threads }),
          },
        ]
      : []
  const graphileSide = (batched: boolean) => ({
    name: batched ? 'graphile-worker-batched' : 'graphile-worker',
    run: () => graphileThroughput(url, { ...base, concurrency: 10, batched }),
  })
  const results = await alternate<ThroughputRun>(
    'postgres-throughput',
    o.runs,
    [
      graphileSide(false),
      ...nencSide(10),
      graphileSide(true),
      ...nencBatched(10),
      ...nencSide(50),
      ...nencBatched(50),
      ...PG_BOSS_BATCH_SIZES.map((batchSize) => ({
        name: `pg-boss-${batchSize}`,
        run: () => pgBossThroughput(url, { ...base, batchSize, workers: PG_BOSS_WORKERS }),
      })),
    ],
    o.budgetMs.postgresThroughput,
  ).finally(() => meter.close())

  const line = (
    scenario: string,
    threads: number,
    peer: { name: string; [k: string]: unknown },
    durability: string,
    inProcess = false,
    prefetch = false,
  ) => {
    const key = `nenc-c${threads}${inProcess ? '-inprocess' : prefetch ? '-prefetch' : ''}`
    const local = prefetch ? ` prefetch=${LOCAL_QUEUE - threads} (${LOCAL_QUEUE} held per runner)` : ''
    printComparison(
      {
        scenario: inProcess ? `${scenario}-inprocess` : scenario,
        backend: 'postgres',
        n: o.serverN,
        nenc: ctx.nencSkipped
          ? { skipped: true }
          : {
              ...throughputOf(results.get(key)),
              runner: inProcess
                ? `ThreadRunner maxThreads=${threads} in the caller's process (one process routes, runs and waits)`
                : `ThreadRunner maxThreads=${threads}${local}, own process`,
            },
        peer,
        durability: { nenc: ctx.durability.nenc, peer: durability },
      },
      'throughput',
      ctx.nencSkipped,
    )
  }
  const graphileDefaults = {
    ...GRAPHILE,
    settings: 'addJobs chunks of 1000; run({ concurrency: 10 }) defaults, own process',
    ...throughputOf(results.get('graphile-worker')),
  }
  const graphileBatched = {
    ...GRAPHILE,
    settings:
      `extra info: run({ concurrency: 10 }) with localQueue.size=${GRAPHILE_BATCHED.localQueueSize}, ` +
      'completeJobBatchDelay=0, failJobBatchDelay=0 (trades crash safety for speed)',
    ...throughputOf(results.get('graphile-worker-batched')),
  }
  // The in-process lines compare nenc in one process with the same peer runs.
  for (const inProcess of [false, true]) {
    line('postgres-throughput-c10', 10, graphileDefaults, ctx.durability['graphile-worker'], inProcess)
    line(
      'postgres-throughput-c10-batched',
      10,
      graphileBatched,
      ctx.durability['graphile-worker-batched'],
      inProcess,
    )
    line('postgres-throughput-c50', 50, pgBossBest(results), ctx.durability['pg-boss'], inProcess)
  }
  // Both sides batched: nenc with a local queue of 500 per runner, as graphile-worker's batched mode.
  line(
    'postgres-throughput-c10-prefetch',
    10,
    graphileBatched,
    ctx.durability['graphile-worker-batched'],
    false,
    true,
  )
  line('postgres-throughput-c50-prefetch', 50, pgBossBest(results), ctx.durability['pg-boss'], false, true)
}

/** pg-boss at the batch size whose median throughput was best. */
function pgBossBest(results: Map<string, SideResult<ThroughputRun>>): { name: string; [k: string]: unknown } {
  const bySize = PG_BOSS_BATCH_SIZES.map((size) => ({
    size,
    summary: throughputOf(results.get(`pg-boss-${size}`)),
  }))
  const perS = (s: Record<string, unknown>) => (typeof s.perS === 'number' ? s.perS : -1)
  const best = bySize.reduce((a, b) => (perS(b.summary) > perS(a.summary) ? b : a))
  return {
    name: 'pg-boss',
    version: '10.4.2',
    settings:
      `insert chunks of 1000, ANALYZE of the queue partition; ${PG_BOSS_WORKERS} × work({ batchSize: ${best.size}, ` +
      'pollingIntervalSeconds: 0.5 }), own process; best batch size reported',
    ...best.summary,
    byBatchSize: Object.fromEntries(bySize.map((b) => [b.size, b.summary.perS ?? b.summary.error])),
  }
}

/** Sequential call → result round trips; nenc at 10 slots beside graphile-worker at concurrency 10. */
async function latency(ctx: PgContext): Promise<void> {
  const { o, url, target, timeoutMs } = ctx
  const base = { roundTrips: o.serverRoundTrips, warmup: o.latencyWarmup, timeoutMs }
  const results = await alternate<LatencyRun>(
    'postgres-latency',
    o.runs,
    [
      { name: 'graphile-worker', run: () => graphileLatency(url, { ...base, concurrency: 10 }) },
      ...(target
        ? [
            { name: 'nenc', run: () => nencLatency(target, { ...base, maxThreads: 10 }) },
            {
              name: 'nenc-inprocess',
              run: () => nencLatency(target, { ...base, maxThreads: 10, inProcess: true }),
            },
          ]
        : []),
    ],
    o.budgetMs.latency,
  )
  for (const inProcess of [false, true])
    printComparison(
      {
        scenario: inProcess ? 'postgres-latency-inprocess' : 'postgres-latency',
        backend: 'postgres',
        n: o.serverRoundTrips,
        nenc: ctx.nencSkipped
          ? { skipped: true }
          : {
              ...latencyOf(results.get(inProcess ? 'nenc-inprocess' : 'nenc')),
              method: `await (await noop(i)).result(); runner maxThreads=10, ${inProcess ? "in the caller's process" : 'own process'}`,
            },
        peer: {
          ...GRAPHILE,
          settings:
            "addJob, then the worker's job:complete event pushed over IPC, then a query confirming the job row " +
            'is gone; concurrency 10, own process',
          ...latencyOf(results.get('graphile-worker')),
        },
        durability: { nenc: ctx.durability.nenc, peer: ctx.durability['graphile-worker'] },
        note: 'pg-boss has no round-trip figure: its worker sleeps out pollingIntervalSeconds (≥ 0.5 s) between fetches',
      },
      'latency',
      ctx.nencSkipped,
    )
}
