import { type Backend, deserializeArgs, type Nenc } from '@nenc/core'
import { loadBackend, loadPostgresOnPool, type ServerKind } from './backends.js'
import { type ChildHandle, forkChild } from './child.js'
import {
  errorText,
  now,
  percentile,
  printLine,
  printSkipped,
  progress,
  round,
  uniqueSuffix,
} from './measure.js'
import type { BenchOptions } from './options.js'
import { countingPgPool, redisMeter } from './server-stats.js'
import { stderrLogger } from './stderr-logger.js'
import { TRIGGERS, triggerApp } from './trigger-app.js'

const MINUTE = 60_000
const SCENARIO = `triggers-cron-${TRIGGERS}`
const RUNNERS = 2
const MAX_THREADS = 50

/** Round trips and time of one evaluation pass, counted around `app.triggers.evaluate(at)`. */
interface PassCost {
  ms: number
  /** Redis: commands (Lua ones included) and reply flushes, server-wide; PostgreSQL: this app's queries. */
  [counter: string]: number
}

/**
 * Scenario family 5 (issue 12): 1,000 cron triggers due in the same minute, on Redis and on
 * PostgreSQL, each in two parts.
 * - End to end: two runner processes with their atomic-service slots at the defaults; the
 *   figure is the time from the scheduled minute until every triggered invocation was running.
 * - One evaluation pass in this process with an injected clock: the backend round trips of an
 *   idle pass (nothing due) and of the pass that fires all 1,000, and how long it took.
 */
export async function runTriggers(o: BenchOptions): Promise<void> {
  for (const kind of ['redis', 'postgres'] as const) {
    const url = kind === 'redis' ? o.redisUrl : o.pgUrl
    try {
      progress(`${SCENARIO} ${kind}: one evaluation pass, counted`)
      const pass = await passCost(kind, url)
      progress(`${SCENARIO} ${kind}: end to end with ${RUNNERS} runners`)
      const e2e = await endToEnd(kind, url)
      const trips = (c: PassCost) => (kind === 'redis' ? c.redisRoundTrips : c.pgQueries)
      progress(
        `${SCENARIO} ${kind}: every invocation running ${e2e.allRunningMs} ms after its minute` +
          ` (first ${e2e.firstRunningMs} ms); firing pass ${pass.firing.ms} ms, ${trips(pass.firing)} round trips` +
          ` (${round(trips(pass.firing)! / TRIGGERS, 2)} per run); idle pass ${trips(pass.idle)}`,
      )
      printLine({
        scenario: SCENARIO,
        backend: kind,
        n: TRIGGERS,
        nenc: {
          ...e2e,
          idlePass: pass.idle,
          firingPass: pass.firing,
          firingPassPerRun: perRun(pass.firing),
          runners: `${RUNNERS} ThreadRunner maxThreads=${MAX_THREADS}, own processes; atomicServiceIntervalMs=60000, atomicServiceCheckMs=5000 (defaults)`,
        },
        note:
          kind === 'redis'
            ? 'Redis pass counters are server-wide (INFO): other clients of the server count too, so they are upper bounds'
            : 'PostgreSQL pass counters are the queries this app sent through its pool (each a round trip)',
      })
    } catch (err) {
      printSkipped(SCENARIO, kind, errorText(err))
      progress(`${SCENARIO} ${kind} failed: ${errorText(err)}`)
    }
  }
}

function perRun(cost: PassCost): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(cost)) out[k] = round(v / TRIGGERS, 2)
  return out
}

/** Times relative to the scheduled minute (ms). */
interface EndToEnd {
  scheduledAt: string
  invocations: number
  allRunningMs: number
  firstRunningMs: number
  p50RunningMs: number
  firstRoutedMs: number
  allRoutedMs: number
}

/** A counter of backend round trips around one async step. */
interface Counter {
  backend: (url: string) => Backend
  measure(step: () => Promise<unknown>): Promise<PassCost>
  close(): Promise<void>
}

async function counterFor(kind: ServerKind, url: string): Promise<Counter> {
  if (kind === 'redis') {
    const meter = await redisMeter(url)
    const factory = await loadBackend('redis')
    return {
      backend: factory,
      async measure(step) {
        await meter.start()
        const t0 = now()
        await step()
        const ms = now() - t0
        const s = await meter.stop(1)
        return {
          ms: round(ms, 1),
          redisCommands: s.redisCommandsPerInv!,
          redisRoundTrips: s.redisRoundTripsPerInv!,
          redisCpuUs: s.redisCpuUsPerInv!,
        }
      },
      close: () => meter.close(),
    }
  }
  const { pool, queries } = countingPgPool(url)
  const factory = await loadPostgresOnPool(pool)
  return {
    backend: factory,
    async measure(step) {
      const before = queries()
      const t0 = now()
      await step()
      const ms = now() - t0
      return { ms: round(ms, 1), pgQueries: queries() - before }
    },
    close: () => pool.end(),
  }
}

/**
 * Passes by hand (`app.triggers.evaluate(at)`, no runner): the first stores the definitions and
 * anchors every schedule (not counted), the second finds nothing due, the third fires every
 * trigger for one scheduled minute.
 */
async function passCost(kind: ServerKind, url: string): Promise<{ idle: PassCost; firing: PassCost }> {
  const counter = await counterFor(kind, url)
  const app = triggerApp(`bench-trg-pass-${kind}-${uniqueSuffix()}`, counter.backend(url), {
    logger: stderrLogger(`trigger pass ${kind}`),
  })
  try {
    const at = Math.ceil(Date.now() / MINUTE) * MINUTE + MINUTE
    await app.triggers.evaluate(at - 45_000)
    const fired = async (when: number) => (await app.triggers.evaluate(when)).fired.length
    const counts: number[] = []
    const idle = await counter.measure(async () => counts.push(await fired(at - 30_000)))
    const firing = await counter.measure(async () => counts.push(await fired(at + 1_000)))
    if (counts[0] !== 0 || counts[1] !== TRIGGERS)
      throw new Error(`the passes fired ${counts.join(' and ')} runs, not 0 and ${TRIGGERS}`)
    return { idle, firing }
  } finally {
    try {
      await app.purge()
    } finally {
      await app.close()
      await counter.close()
    }
  }
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/**
 * Two runner processes evaluate the triggers in their slots and run what they route. Once every
 * schedule is anchored (first evaluation), the next minute boundary is the scheduled time; the
 * tasks return when they started running, and the records say when they were routed.
 */
async function endToEnd(kind: ServerKind, url: string): Promise<EndToEnd> {
  const appId = `bench-trg-${kind}-${uniqueSuffix()}`
  const children: ChildHandle[] = []
  // The bench process only reads: it declares the same tasks (to list the schedules) and runs nothing.
  const app = triggerApp(appId, (await loadBackend(kind))(url), {
    logger: stderrLogger(`trigger reader ${kind}`),
  })
  try {
    for (let i = 0; i < RUNNERS; i++)
      children.push(await forkChild('nenc-trigger-runner', { kind, url, appId, maxThreads: MAX_THREADS }))
    await until(
      async () => (await app.triggers.list()).every((t) => t.lastRun !== null),
      90_000,
      'the runners to anchor every cron schedule',
    )
    const scheduledAt = Math.ceil((Date.now() + 1) / MINUTE) * MINUTE
    progress(`${SCENARIO} ${kind}: due at ${new Date(scheduledAt).toISOString()}`)
    const { orchestrator } = app.backend
    let ids: string[] = []
    await until(
      async () => {
        if (Date.now() < scheduledAt) return false
        ids = await orchestrator.listInvocations({ limit: 10_000 })
        if (ids.length < TRIGGERS) return false
        const states = await orchestrator.getStates(ids)
        return states.every((s) => s?.status === 'success')
      },
      scheduledAt - Date.now() + 180_000,
      `${TRIGGERS} triggered invocations to finish`,
    )
    // A late duplicate would show here: one more evaluation slot later, still one per trigger.
    await new Promise((r) => setTimeout(r, 6_000))
    ids = await orchestrator.listInvocations({ limit: 10_000 })
    return await figures(app, ids, scheduledAt)
  } finally {
    await Promise.all(children.map((c) => c.stop()))
    try {
      await app.purge()
    } finally {
      await app.close()
    }
  }
}

/** Checks one invocation per trigger, all for `scheduledAt`, and reads when each was routed and running. */
async function figures(app: Nenc, ids: string[], scheduledAt: number): Promise<EndToEnd> {
  const records = await app.backend.stateBackend.getInvocations(ids)
  const tasks = new Set<string>()
  const routedAt: number[] = []
  for (const r of records) {
    if (!r) throw new Error('a triggered invocation has no record')
    const [at] = await deserializeArgs(app.serializer, r.args, app.backend.clientDataStore, app.largeValues)
    if (at !== scheduledAt) throw new Error(`${r.taskName} ran for ${at}, not ${scheduledAt}`)
    tasks.add(r.taskName)
    routedAt.push(r.createdAt)
  }
  if (ids.length !== TRIGGERS || tasks.size !== TRIGGERS)
    throw new Error(`${ids.length} invocations of ${tasks.size} tasks, not one per trigger (${TRIGGERS})`)
  const runningAt = (await Promise.all(ids.map((id) => app.invocation<number>(id).result()))).map(
    (t) => t - scheduledAt,
  )
  const routed = routedAt.map((t) => t - scheduledAt)
  return {
    scheduledAt: new Date(scheduledAt).toISOString(),
    invocations: ids.length,
    allRunningMs: Math.max(...runningAt),
    firstRunningMs: Math.min(...runningAt),
    p50RunningMs: percentile(runningAt, 50),
    firstRoutedMs: Math.min(...routed),
    allRoutedMs: Math.max(...routed),
  }
}
