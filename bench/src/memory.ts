import { Nenc } from '@nenc/core'
import { memoryBackend } from '@nenc/memory'
import { ThreadRunner } from '@nenc/runners'
import {
  latencySummary,
  median,
  now,
  perSecond,
  printLine,
  progress,
  round,
  uniqueSuffix,
} from './measure.js'
import type { BenchOptions } from './options.js'
import { stderrLogger } from './stderr-logger.js'

/** The goals of the in-process figures (issue goals, printed beside each figure). */
const GOAL_INV_PER_S = 100_000
const GOAL_P50_MS = 0.2

interface MemoryApp {
  app: Nenc
  noop: (i: number) => Promise<{ result(): Promise<number> }>
  parallelNoop: (n: number, offset?: number) => Promise<number[]>
}

/** One app on the memory backend with an in-process ThreadRunner, already started. */
async function startApp(maxThreads: number): Promise<MemoryApp> {
  const app = new Nenc({
    appId: `bench-mem-${uniqueSuffix()}`,
    backend: memoryBackend(),
    runner: new ThreadRunner({ maxThreads }),
    config: { task: { parallelBatchSize: 1000 } },
    logger: stderrLogger('memory'),
  })
  const noop = app.task('noop', async (i: number) => i)
  await app.runner.start()
  const parallelNoop = async (n: number, offset = 0) => {
    const group = await noop.parallelize(Array.from({ length: n }, (_, i) => [offset + i] as [number]))
    return group.results()
  }
  return { app, noop, parallelNoop }
}

function checkResults(results: number[], n: number, offset = 0): void {
  if (results.length !== n || results.some((r, i) => r !== offset + i))
    throw new Error(`wrong results: expected ${n} values ${offset}…${offset + n - 1} in input order`)
}

/** (a) N no-op invocations routed with parallelize, run in-process, until every result is read. */
async function throughput(o: BenchOptions): Promise<void> {
  const rates: number[] = []
  const cpuPerInv: number[] = []
  for (let run = 1; run <= o.runs; run++) {
    const { app, parallelNoop } = await startApp(50)
    checkResults(await parallelNoop(o.warmup), o.warmup)
    progress(`memory throughput run ${run}/${o.runs}: ${o.memoryN} invocations`)
    const cpu0 = process.cpuUsage()
    const t0 = now()
    const results = await parallelNoop(o.memoryN)
    const ms = now() - t0
    const cpu = process.cpuUsage(cpu0)
    checkResults(results, o.memoryN)
    rates.push(perSecond(o.memoryN, ms))
    cpuPerInv.push((cpu.user + cpu.system) / o.memoryN)
    await app.close()
  }
  const invPerS = median(rates)
  printLine({
    scenario: 'memory-throughput',
    backend: 'memory',
    n: o.memoryN,
    nenc: {
      invPerS,
      runs: rates,
      cpuUsPerInv: round(median(cpuPerInv), 1),
      maxThreads: 50,
      parallelBatchSize: 1000,
    },
    goal: { invPerS: GOAL_INV_PER_S, met: invPerS >= GOAL_INV_PER_S },
    durability: { nenc: 'none (process memory)' },
  })
}

/** (b) sequential call → result round trips in one process. */
async function latency(o: BenchOptions): Promise<void> {
  const { app, noop } = await startApp(50)
  for (let i = 0; i < o.warmup; i++) await (await noop(i)).result()
  progress(`memory latency: ${o.memoryRoundTrips} sequential round trips`)
  const sample: number[] = []
  for (let i = 0; i < o.memoryRoundTrips; i++) {
    const t0 = now()
    const value = await (await noop(i)).result()
    sample.push(now() - t0)
    if (value !== i) throw new Error(`round trip ${i} returned ${value}`)
  }
  await app.close()
  const summary = latencySummary(sample)
  printLine({
    scenario: 'memory-latency',
    backend: 'memory',
    n: o.memoryRoundTrips,
    nenc: summary,
    goal: { p50Ms: GOAL_P50_MS, met: summary.p50Ms < GOAL_P50_MS },
    durability: { nenc: 'none (process memory)' },
  })
}

/** (c) parents that parallelize their children and wait for them (their slots are freed while they wait). */
async function fanout(o: BenchOptions): Promise<void> {
  const { parents, children } = o.fanout
  const rates: number[] = []
  const cpuPerInv: number[] = []
  for (let run = 1; run <= o.runs; run++) {
    const app = new Nenc({
      appId: `bench-mem-${uniqueSuffix()}`,
      backend: memoryBackend(),
      runner: new ThreadRunner({ maxThreads: 50 }),
      config: { task: { parallelBatchSize: 1000 } },
      logger: stderrLogger('memory'),
    })
    const child = app.task('child', async (i: number) => i)
    const parent = app.task('parent', async (p: number, k: number) => {
      const group = await child.parallelize(Array.from({ length: k }, (_, i) => [p * k + i] as [number]))
      const values = await group.results()
      return values.length
    })
    await app.runner.start()
    await (await parent.parallelize([[0, 10]])).results()
    progress(`memory fan-out run ${run}/${o.runs}: ${parents} parents × ${children} children`)
    const cpu0 = process.cpuUsage()
    const t0 = now()
    const group = await parent.parallelize(
      Array.from({ length: parents }, (_, p) => [p, children] as [number, number]),
    )
    const counts = await group.results()
    const ms = now() - t0
    const cpu = process.cpuUsage(cpu0)
    if (counts.some((c) => c !== children)) throw new Error('a parent saw the wrong number of children')
    rates.push(perSecond(parents * (children + 1), ms))
    cpuPerInv.push((cpu.user + cpu.system) / (parents * (children + 1)))
    await app.close()
  }
  const invPerS = median(rates)
  printLine({
    scenario: 'memory-fanout',
    backend: 'memory',
    n: parents * (children + 1),
    nenc: {
      invPerS,
      runs: rates,
      cpuUsPerInv: round(median(cpuPerInv), 1),
      parents,
      childrenPerParent: children,
      maxThreads: 50,
    },
    goal: { invPerS: GOAL_INV_PER_S, met: invPerS >= GOAL_INV_PER_S },
    durability: { nenc: 'none (process memory)' },
    note: `total invocations/s (parents + children), ${round(parents * children)} children`,
  })
}

/** Scenario family 1: nenc alone on the memory backend (no peer runs in-process like this). */
export async function runMemory(o: BenchOptions): Promise<void> {
  await throughput(o)
  await latency(o)
  await fanout(o)
}
