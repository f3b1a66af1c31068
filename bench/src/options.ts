/** What the command line asked for; every scenario family reads its sizes from here. */
export interface BenchOptions {
  /** Small N and one run per side: a smoke test of the harness, not a figure to quote. */
  quick: boolean
  /** Runs per side in peer comparisons (alternating peer, nenc, peer, nenc …); the median is reported. */
  runs: number
  /** Invocations in memory throughput runs. */
  memoryN: number
  /** Sequential round trips in memory latency runs. */
  memoryRoundTrips: number
  /** Parents × children in the memory fan-out run. */
  fanout: { parents: number; children: number }
  /** Invocations in Redis / PostgreSQL throughput runs (≥ 20,000 for quoted figures). */
  serverN: number
  /** Sequential round trips in Redis / PostgreSQL latency runs. */
  serverRoundTrips: number
  /** Invocations routed and run before the timed part of every throughput run. */
  warmup: number
  /** Round trips made before the timed ones in every latency run. */
  latencyWarmup: number
  /**
   * No new round of runs starts once a scenario has run this long (ms), so `pnpm bench` stays
   * near 10 minutes when the machine is busy; the lines then say how many runs they have.
   */
  budgetMs: { redisThroughput: number; postgresThroughput: number; latency: number }
  redisUrl: string
  pgUrl: string
}

export const FAMILIES = ['memory', 'redis', 'postgres', 'cpu', 'triggers'] as const
export type Family = (typeof FAMILIES)[number]

/** Parses `--quick`, `--only <family>[,<family>]` and `--runs <k>`; throws on anything else. */
export function parseArgs(argv: readonly string[]): { options: BenchOptions; only: Family[] } {
  let quick = false
  let only: Family[] = [...FAMILIES]
  let runs: number | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') continue
    if (a === '--quick') quick = true
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a.includes('=') ? a.slice(7) : argv[++i]
      const names = (value ?? '').split(',').filter(Boolean)
      const bad = names.filter((n) => !(FAMILIES as readonly string[]).includes(n))
      if (names.length === 0 || bad.length)
        throw new Error(`--only takes ${FAMILIES.join('|')} (comma-separated), got "${value ?? ''}".`)
      only = names as Family[]
    } else if (a === '--runs' || a.startsWith('--runs=')) {
      runs = Number(a.includes('=') ? a.slice(7) : argv[++i])
      if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer.')
    } else
      throw new Error(
        `Unknown argument "${a}". Usage: pnpm bench [-- --only memory|redis|postgres|cpu|triggers] [--quick] [--runs k]`,
      )
  }
  // Same variables as the backend tests, defaulting to the loopback servers.
  const redisUrl = process.env.NENC_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const pgUrl = process.env.NENC_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const options: BenchOptions = quick
    ? {
        quick,
        runs: runs ?? 1,
        memoryN: 10_000,
        memoryRoundTrips: 500,
        fanout: { parents: 10, children: 200 },
        serverN: 1_000,
        serverRoundTrips: 100,
        warmup: 100,
        latencyWarmup: 20,
        budgetMs: {
          redisThroughput: Number.POSITIVE_INFINITY,
          postgresThroughput: Number.POSITIVE_INFINITY,
          latency: Number.POSITIVE_INFINITY,
        },
        redisUrl,
        pgUrl,
      }
    : {
        quick,
        runs: runs ?? 3,
        memoryN: 50_000,
        memoryRoundTrips: 2_000,
        fanout: { parents: 20, children: 500 },
        serverN: 20_000,
        serverRoundTrips: 1_000,
        warmup: 500,
        latencyWarmup: 100,
        budgetMs: { redisThroughput: 75_000, postgresThroughput: 270_000, latency: 45_000 },
        redisUrl,
        pgUrl,
      }
  return { options, only }
}
