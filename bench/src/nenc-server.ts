import { Nenc } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import type { BackendFactory, NencMode, ServerKind } from './backends.js'
import { forkChild } from './child.js'
import { type CpuMark, cpuMark, cpuPerItem, ownCpuUs } from './cpu.js'
import {
  latencySummary,
  now,
  perSecond,
  ROUND_TRIP_LIMIT_MS,
  round,
  uniqueSuffix,
  withTimeout,
} from './measure.js'
import type { ServerMeter } from './server-stats.js'
import { stderrLogger } from './stderr-logger.js'

/** One throughput run: time from the first enqueue to the last result stored (and read back). */
export interface ThroughputRun {
  ms: number
  perS: number
  [extra: string]: unknown
}

export interface LatencyRun {
  p50Ms: number
  p99Ms: number
  meanMs: number
}

export interface NencServerTarget {
  kind: ServerKind
  url: string
  factory: BackendFactory
  /** Runner side: with the backend's fused steps (default) or composed. */
  mode?: NencMode
}

/**
 * A caller app (DummyRunner: routes and waits) plus `runners` runners (default 1), each in a
 * forked child process on the same app id, fresh for this run — or, `inProcess`, one app that
 * routes, waits and runs its own ThreadRunner in this process (as a small service deploys it).
 * `finish` purges the app's data and stops them all.
 */
async function startPair(
  t: NencServerTarget,
  maxThreads: number,
  inProcess = false,
  runners = 1,
  prefetch = 0,
) {
  const appId = `bench-${t.kind}-${uniqueSuffix()}`
  const children = inProcess
    ? []
    : await Promise.all(
        Array.from({ length: runners }, () =>
          forkChild('nenc-runner', { kind: t.kind, url: t.url, appId, maxThreads, prefetch, mode: t.mode }),
        ),
      )
  const runner = children[0] ?? null
  const app = new Nenc({
    appId,
    backend: t.factory(t.url),
    // Chunks of 1,000 like the peers' bulk adds: one routing round per chunk.
    config: { task: { parallelBatchSize: 1000 } },
    logger: stderrLogger(`caller ${appId}`),
    ...(inProcess ? { runner: new ThreadRunner({ maxThreads, prefetch }) } : {}),
  })
  const noop = app.task('noop', async (i: number) => i)
  if (inProcess) await app.runner.start()
  const finish = async () => {
    if (runner) await Promise.all(children.map((c) => c.stop()))
    else await app.runner.stop()
    try {
      await app.purge()
    } finally {
      await app.close()
    }
  }
  /** CPU per invocation: caller and runner process apart, or the one process. */
  const cpu = {
    mark: async (): Promise<CpuMark> => (runner ? cpuMark(children) : { caller: ownCpuUs(), worker: 0 }),
    perItem: async (mark: CpuMark, n: number): Promise<Record<string, number>> =>
      runner
        ? cpuPerItem(mark, children, n)
        : { processCpuUsPerInv: round((ownCpuUs() - mark.caller) / n, 1) },
  }
  return { app, noop, runner, cpu, finish }
}

function check(results: number[], n: number): void {
  if (results.length !== n || results.some((r, i) => r !== i))
    throw new Error(`nenc returned wrong results (expected ${n} values in input order)`)
}

/**
 * N no-op invocations routed with `parallelize` (chunks of 1,000) while the child's runner runs
 * them at `maxThreads`. `ms` ends when the caller knows every invocation is final (its result is
 * stored); `readBackMs` is the time to read all N results back afterwards (`group.results()`),
 * which the peers have no equivalent of.
 */
export async function nencThroughput(
  t: NencServerTarget,
  o: {
    n: number
    warmup: number
    maxThreads: number
    timeoutMs: number
    meter?: ServerMeter
    /** Caller and runner in one process (see {@link startPair}). */
    inProcess?: boolean
    /** Runner processes on the app (default 1), each with `maxThreads` slots. */
    runners?: number
    /** Each runner's local queue (`ThreadRunner({ prefetch })`, default 0). */
    prefetch?: number
  },
): Promise<ThroughputRun> {
  const pair = await startPair(t, o.maxThreads, o.inProcess, o.runners, o.prefetch)
  try {
    const { app, noop } = pair
    const args = (n: number) => Array.from({ length: n }, (_, i) => [i] as [number])
    check(await (await noop.parallelize(args(o.warmup))).results(), o.warmup)
    const body = async () => {
      await o.meter?.start()
      const cpu = await pair.cpu.mark()
      const t0 = now()
      const group = await noop.parallelize(args(o.n))
      const routedMs = now() - t0
      await app.waiter.waitAll(group.ids)
      const ms = now() - t0
      const cpuUse = await pair.cpu.perItem(cpu, o.n)
      const server = await o.meter?.stop(o.n)
      const r0 = now()
      const results = await group.results()
      const readBackMs = now() - r0
      check(results, o.n)
      return {
        ms: round(ms, 1),
        perS: perSecond(o.n, ms),
        routedMs: round(routedMs, 1),
        readBackMs: round(readBackMs, 1),
        ...cpuUse,
        ...server,
      }
    }
    return await withTimeout(body(), o.timeoutMs, `nenc ${t.kind} throughput (${o.n} invocations)`)
  } finally {
    await pair.finish()
  }
}

/** Sequential call → result round trips: `await (await noop(i)).result()`, runner in the child. */
export async function nencLatency(
  t: NencServerTarget,
  o: { roundTrips: number; warmup: number; maxThreads: number; timeoutMs: number; inProcess?: boolean },
): Promise<LatencyRun> {
  const pair = await startPair(t, o.maxThreads, o.inProcess)
  try {
    const { noop } = pair
    const roundTrip = async (i: number) => {
      const value = await withTimeout(
        (async () => (await noop(i)).result())(),
        ROUND_TRIP_LIMIT_MS,
        `nenc round trip ${i}`,
      )
      if (value !== i) throw new Error(`nenc round trip ${i} returned ${value}`)
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
    return await withTimeout(body(), o.timeoutMs, `nenc ${t.kind} latency (${o.roundTrips} round trips)`)
  } finally {
    await pair.finish()
  }
}
