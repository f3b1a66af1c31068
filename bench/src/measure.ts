import { performance } from 'node:perf_hooks'

/** One printed scenario result: nenc beside its peer, with the ratio (> 1 means nenc is better). */
export interface ScenarioLine {
  scenario: string
  backend: 'memory' | 'redis' | 'postgres'
  n: number
  nenc: Record<string, unknown>
  /** nenc on the same backend without its fused steps (Redis c50): what a mixed backend costs. */
  nencComposed?: Record<string, unknown>
  peer?: Record<string, unknown> & { name: string }
  ratio?: number | null
  goal?: Record<string, unknown>
  durability?: Record<string, string>
  note?: string
}

/** Milliseconds since an arbitrary origin, sub-millisecond precision. */
export const now = (): number => performance.now()

/** Percentile by nearest rank on an unsorted sample (copies before sorting). */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return Number.NaN
  const sorted = [...sample].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

export const median = (sample: readonly number[]): number => percentile(sample, 50)

/** Rounds to `digits` decimals, keeping JSON lines short. */
export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** Invocations (or jobs) per second for `n` items done in `ms`. */
export const perSecond = (n: number, ms: number): number => Math.round((n * 1000) / ms)

/** Throughput ratio nenc / peer, or latency ratio peer / nenc: both read "> 1 = nenc better". */
export function ratioOf(better: number, worse: number): number | null {
  if (!Number.isFinite(better) || !Number.isFinite(worse) || worse <= 0) return null
  return round(better / worse, 2)
}

/** Prints one result line on stdout: stdout carries nothing but these JSON lines. */
export function printLine(line: ScenarioLine | Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + '\n')
}

/** Prints a scenario that could not run, with the reason, so every family always answers. */
export function printSkipped(scenario: string, backend: string, reason: string): void {
  printLine({ scenario, backend, skipped: reason })
}

/** Progress for humans, on stderr. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

/** Times one async run; resolves with milliseconds elapsed. */
export async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = now()
  await run()
  return now() - t0
}

/** Latency summary (ms) of a sample of round trips. */
export function latencySummary(sample: readonly number[]): { p50Ms: number; p99Ms: number; meanMs: number } {
  const mean = sample.reduce((a, b) => a + b, 0) / Math.max(sample.length, 1)
  return {
    p50Ms: round(percentile(sample, 50), 3),
    p99Ms: round(percentile(sample, 99), 3),
    meanMs: round(mean, 3),
  }
}

/** Rejects after `ms` with a message naming what timed out; the timer never holds the process. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)),
      ms,
    )
    timer.unref()
  })
  return Promise.race([p, limit]).finally(() => clearTimeout(timer))
}

/**
 * One call → result round trip that takes this long has failed (a lost job or notification):
 * the latency run stops with that error instead of hanging until its overall timeout.
 */
export const ROUND_TRIP_LIMIT_MS = 10_000

/** A short unique suffix for app ids and queue names, so runs never see each other's data. */
export const uniqueSuffix = (): string =>
  `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

/** Error message of anything thrown, one line. */
export const errorText = (err: unknown): string =>
  (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).split('\n')[0]!.slice(0, 300)
