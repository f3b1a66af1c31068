import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { BaseRunner } from '@nenc/core'
import { errorText, now, printLine, printSkipped, progress, round, uniqueSuffix } from './measure.js'
import type { BenchOptions } from './options.js'

const APP_MODULE = fileURLToPath(new URL('./cpu-app.ts', import.meta.url))

/**
 * CPU-bound scenarios (issue 6): how well each pool runner uses the machine's cores, and what
 * ProcessRunner costs per invocation. Parallel efficiency = single-core time of the tasks
 * (calibrated in this process before timing) /
 * (wall time × cores): 1.0 means every core ran task code the whole time. On 2 vCPUs shared with
 * Redis and the bench process itself, the ceiling is below 1.
 */
export async function runCpuRunners(options: BenchOptions): Promise<void> {
  const cores = availableParallelism()
  process.env.NENC_BENCH_CPU_APP_ID = `nenc-bench-cpu-${uniqueSuffix()}`
  process.env.NENC_REDIS_URL = options.redisUrl
  const { app, burn, noop } = await import('./cpu-app.js')
  const runners = await import('@nenc/runners')
  const taskMs = options.quick ? 100 : 250
  const perCore = options.quick ? 4 : 12
  const rounds = calibrate(burn.fn, taskMs)
  const kinds: { name: string; make: () => BaseRunner }[] = [
    {
      name: 'PersistentProcessRunner',
      make: () => new runners.PersistentProcessRunner({ appModule: APP_MODULE, numProcesses: cores }),
    },
    {
      name: 'MultiThreadRunner',
      make: () =>
        new runners.MultiThreadRunner({
          appModule: APP_MODULE,
          minProcesses: cores,
          maxProcesses: cores,
          maxThreads: 1,
        }),
    },
    {
      name: 'ThreadRunner (workerThreads)',
      make: () =>
        new runners.ThreadRunner({
          maxThreads: cores,
          workerThreads: { appModule: APP_MODULE, tasks: ['burn'], size: cores },
        }),
    },
  ]
  try {
    for (const kind of kinds) {
      const n = cores * perCore
      try {
        progress(`cpu: ${kind.name}, ${n} tasks of ${taskMs} ms on ${cores} cores`)
        const runner = runners.bindRunner(app, kind.make())
        await runner.start()
        // Warm-up: children up and the code paths compiled before the timed part.
        await (await burn.parallelize(Array.from({ length: cores }, () => [1000] as [number]))).results()
        const t0 = now()
        await (await burn.parallelize(Array.from({ length: n }, () => [rounds] as [number]))).results()
        const wallMs = now() - t0
        await runner.stop()
        const efficiency = (n * taskMs) / (wallMs * cores)
        printLine({
          scenario: 'cpu-parallel-efficiency',
          backend: 'redis',
          runner: kind.name,
          n,
          cores,
          taskMs,
          nenc: { wallMs: Math.round(wallMs), efficiency: round(efficiency, 3), roundsPerTask: rounds },
          goal: '≥ 0.9',
          met: efficiency >= 0.9,
        })
      } catch (err) {
        printSkipped(`cpu-parallel-efficiency ${kind.name}`, 'redis', errorText(err))
      }
    }
    try {
      const n = options.quick ? 6 : 20
      progress(`cpu: ProcessRunner overhead, ${n} no-op invocations on ${cores} slots`)
      const runner = runners.bindRunner(app, new runners.ProcessRunner({ appModule: APP_MODULE }))
      await runner.start()
      await (await noop()).result()
      const t0 = now()
      await (await noop.parallelize(Array.from({ length: n }, () => [] as []))).results()
      const wallMs = now() - t0
      const seq: number[] = []
      for (let i = 0; i < Math.min(5, n); i++) {
        const s = now()
        await (await noop()).result()
        seq.push(now() - s)
      }
      await runner.stop()
      printLine({
        scenario: 'process-runner-overhead',
        backend: 'redis',
        n,
        slots: runner.maxParallelSlots,
        nenc: {
          msPerInvocationAtFullSlots: Math.round((wallMs * runner.maxParallelSlots) / n),
          sequentialCallToResultMs: Math.round(seq.reduce((a, b) => a + b, 0) / seq.length),
        },
        note: 'one forked child per invocation: the figure is dominated by process start and app import',
      })
    } catch (err) {
      printSkipped('process-runner-overhead', 'redis', errorText(err))
    }
  } finally {
    await app.purge().catch(() => {})
    await app.close()
  }
}

/** Rounds of `burn` that take `ms` on one core here (median of 5 timings, after a warm-up). */
function calibrate(fn: (rounds: number) => unknown, ms: number): number {
  const probe = 2_000_000
  fn(probe)
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const t = now()
    fn(probe)
    times.push(now() - t)
  }
  times.sort((a, b) => a - b)
  return Math.round((probe * ms) / times[2]!)
}
