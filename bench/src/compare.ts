import { errorText, median, printLine, progress, ratioOf, type ScenarioLine } from './measure.js'
import type { LatencyRun, ThroughputRun } from './nenc-server.js'

/** One contender of a scenario: nenc or a peer (a peer may appear in several settings). */
export interface Side<M> {
  name: string
  run: () => Promise<M>
}

/** Every run of one side, or why it stopped (it is not retried after a failure). */
export interface SideResult<M> {
  runs: M[]
  error?: string
  note?: string
}

/** A side whose run takes longer than this is not run again (see {@link alternate}). */
const SLOW_RUN_MS = 45_000

/**
 * Runs the sides in turn, `runs` times (peer, nenc, peer, nenc …): servers and CPU drift during a
 * run, so alternating spreads the drift over both sides instead of favouring one. A side that
 * fails is not run again; one whose run took over 45 s is not repeated either; and no new round
 * starts once `budgetMs` has passed, which keeps `pnpm bench` near 10 minutes on a busy machine.
 */
export async function alternate<M>(
  label: string,
  runs: number,
  sides: Side<M>[],
  budgetMs = Number.POSITIVE_INFINITY,
): Promise<Map<string, SideResult<M>>> {
  const out = new Map<string, SideResult<M>>(sides.map((s) => [s.name, { runs: [] }]))
  const slow = new Set<string>()
  const started = Date.now()
  for (let r = 1; r <= runs; r++) {
    if (r > 1 && Date.now() - started > budgetMs) {
      progress(`${label}: time budget of ${Math.round(budgetMs / 1000)} s used; ${r - 1} round(s) only`)
      for (const result of out.values())
        result.note ??= `${r - 1} run(s): the scenario's time budget (${Math.round(budgetMs / 1000)} s) was used`
      break
    }
    for (const side of sides) {
      const result = out.get(side.name)!
      if (result.error || slow.has(side.name)) continue
      progress(`${label} run ${r}/${runs}: ${side.name}`)
      const t0 = Date.now()
      try {
        result.runs.push(await side.run())
      } catch (err) {
        result.error = errorText(err)
        progress(`${label}: ${side.name} failed: ${result.error}`)
      }
      const took = Date.now() - t0
      if (took > SLOW_RUN_MS && r < runs && !result.error) {
        slow.add(side.name)
        result.note = `not repeated after a run of ${Math.round(took / 1000)} s`
        progress(`${label}: ${side.name} took ${Math.round(took / 1000)} s; not repeated`)
      }
    }
  }
  return out
}

const status = (r: SideResult<unknown>) => ({
  ...(r.error ? { error: r.error } : {}),
  ...(r.note ? { note: r.note } : {}),
})

/** Median throughput over runs (with that run's details), and each run's figure. */
export function throughputOf(r: SideResult<ThroughputRun> | undefined): Record<string, unknown> {
  if (!r) return { skipped: 'not run' }
  if (r.runs.length === 0) return { error: r.error ?? 'no run' }
  const mid = median(r.runs.map((x) => x.perS))
  const { ms, perS, ...details } = r.runs.find((x) => x.perS === mid)!
  return { perS, ms, runs: r.runs.map((x) => x.perS), ...details, ...status(r) }
}

/** Median p50 / p99 over runs. */
export function latencyOf(r: SideResult<LatencyRun> | undefined): Record<string, unknown> {
  if (!r) return { skipped: 'not run' }
  if (r.runs.length === 0) return { error: r.error ?? 'no run' }
  return {
    p50Ms: median(r.runs.map((x) => x.p50Ms)),
    p99Ms: median(r.runs.map((x) => x.p99Ms)),
    runsP50Ms: r.runs.map((x) => x.p50Ms),
    ...status(r),
  }
}

/**
 * Prints one comparison: throughput ratio = nenc / peer, latency ratio = peer p50 / nenc p50,
 * so > 1 always means nenc is better. A side that could not run yields `ratio: null`.
 */
export function printComparison(
  line: Omit<ScenarioLine, 'ratio'> & { peer: ScenarioLine['peer'] & object },
  kind: 'throughput' | 'latency',
  nencSkipped?: string,
): void {
  const key = kind === 'throughput' ? 'perS' : 'p50Ms'
  const a = line.nenc[key]
  const b = line.peer[key]
  let ratio: number | null = null
  if (typeof a === 'number' && typeof b === 'number')
    ratio = kind === 'throughput' ? ratioOf(a, b) : ratioOf(b, a)
  const { scenario, backend, n, ...rest } = line
  printLine({ scenario, backend, n, ...(nencSkipped ? { skipped: nencSkipped } : {}), ...rest, ratio })
}
