import { randomUUID } from 'node:crypto'
import { type Backend, COMPONENT_NAMES, type InvocationRecord, Nenc, type RegisterRequest } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import pg from 'pg'
import { errorText, median, printLine, printSkipped, progress, round, uniqueSuffix } from './measure.js'
import type { NencServerTarget } from './nenc-server.js'
import type { BenchOptions } from './options.js'
import { localPgServerCpuUs } from './server-stats.js'
import { stderrLogger } from './stderr-logger.js'

/**
 * Where one PostgreSQL invocation's cost goes (nenc alone: no peer runs like this).
 *
 * - `postgres-wal-per-invocation`: N no-op invocations at `maxThreads` 50, caller and runner in
 *   this process; the WAL of the span read back with `pg_walinspect` and summed by relation and
 *   by record type. Skipped with the reason when the extension cannot be created.
 * - `postgres-step-cost`: each step the caller and runner take, timed alone in one session (no
 *   concurrency), at claim/finish batches of 50 and 500: milliseconds per statement and
 *   microseconds per invocation, with the server's CPU over all steps when it runs here.
 */
export async function runPostgresAnatomy(o: BenchOptions, target: NencServerTarget | null, skipped?: string) {
  if (!target) {
    printSkipped('postgres-wal-per-invocation', 'postgres', skipped ?? 'nenc backend unavailable')
    printSkipped('postgres-step-cost', 'postgres', skipped ?? 'nenc backend unavailable')
    return
  }
  const admin = new pg.Client({ connectionString: target.url })
  await admin.connect()
  try {
    await walPerInvocation(o, target, admin).catch((err: unknown) => {
      printSkipped('postgres-wal-per-invocation', 'postgres', errorText(err))
    })
    await stepCost(o, target).catch((err: unknown) => {
      printSkipped('postgres-step-cost', 'postgres', errorText(err))
    })
  } finally {
    await admin.end()
  }
}

async function walPerInvocation(o: BenchOptions, target: NencServerTarget, admin: pg.Client) {
  const scenario = 'postgres-wal-per-invocation'
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect')
  } catch (err) {
    printSkipped(scenario, 'postgres', `pg_walinspect is not available: ${errorText(err)}`)
    return
  }
  const n = o.quick ? 2_000 : 10_000
  progress(`${scenario}: ${n} invocations`)
  const appId = `bench-anatomy-${uniqueSuffix()}`
  const app = new Nenc({
    appId,
    backend: target.factory(target.url),
    config: { task: { parallelBatchSize: 1000 } },
    logger: stderrLogger(`anatomy ${appId}`),
    runner: new ThreadRunner({ maxThreads: 50 }),
  })
  const noop = app.task('noop', async (i: number) => i)
  await app.runner.start()
  try {
    const args = (k: number) => Array.from({ length: k }, (_, i) => [i] as [number])
    await (await noop.parallelize(args(500))).results()
    const lsn = async () =>
      (await admin.query('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l as string
    const from = await lsn()
    const results = await (await noop.parallelize(args(n))).results()
    const to = await lsn()
    if (results.length !== n) throw new Error(`expected ${n} results, got ${results.length}`)
    // The span's records must be flushed before pg_walinspect reads them.
    await admin.query('SELECT pg_switch_wal()')
    const total = await admin.query('SELECT pg_wal_lsn_diff($2, $1)::float8 AS b', [from, to])
    const byRelation = await admin.query(
      `WITH r AS (
         SELECT record_length + fpi_length AS bytes,
                (regexp_match(block_ref, 'rel \\d+/\\d+/(\\d+)'))[1]::oid AS node
         FROM pg_get_wal_records_info($1, $2))
       SELECT coalesce(c.relname, 'other') AS rel, sum(r.bytes)::float8 AS bytes
       FROM r LEFT JOIN pg_class c ON c.relfilenode = r.node
       GROUP BY 1 ORDER BY 2 DESC`,
      [from, to],
    )
    const byRecord = await admin.query(
      `SELECT "resource_manager/record_type" AS kind, count::float8 AS count,
              (record_size + fpi_size)::float8 AS bytes
       FROM pg_get_wal_stats($1, $2, true) WHERE count > 0 ORDER BY 3 DESC LIMIT 12`,
      [from, to],
    )
    printLine({
      scenario,
      backend: 'postgres',
      n,
      nenc: {
        walBytesPerInv: Math.round(Number(total.rows[0].b) / n),
        byRelation: Object.fromEntries(byRelation.rows.map((r) => [r.rel, Math.round(r.bytes / n)])),
        byRecord: Object.fromEntries(
          byRecord.rows.map((r) => [
            r.kind,
            { perInv: round(r.count / n, 2), bytesPerInv: Math.round(r.bytes / n) },
          ]),
        ),
        runner: "ThreadRunner maxThreads=50 in the caller's process",
      },
      peer: null,
      note: 'nenc alone: where the WAL of one invocation goes (pg_walinspect over the timed span)',
    })
  } finally {
    await app.runner.stop()
    await app.purge()
    await app.close()
  }
}

async function stepCost(o: BenchOptions, target: NencServerTarget) {
  const scenario = 'postgres-step-cost'
  const n = o.quick ? 1_000 : 6_000
  const out: Record<string, unknown> = {}
  for (const batch of [50, 500]) {
    progress(`${scenario}: batch ${batch}`)
    const backend = target.factory(target.url)
    const appId = `bench-steps-${uniqueSuffix()}`
    const steps = backend.steps
    if (!steps) throw new Error('the backend has no fused steps')
    await initAll(backend, appId)
    const times: Record<'route' | 'claim' | 'finish' | 'readFinal', number[]> = {
      route: [],
      claim: [],
      finish: [],
      readFinal: [],
    }
    const timed = async <T>(k: keyof typeof times, run: () => Promise<T>): Promise<T> => {
      const t0 = performance.now()
      const r = await run()
      times[k].push(performance.now() - t0)
      return r
    }
    try {
      const reqs = Array.from({ length: n }, () => request(appId))
      const cpu0 = localPgServerCpuUs()
      for (let i = 0; i < n; i += 1000) {
        const part = reqs.slice(i, i + 1000)
        await timed('route', () =>
          steps.route(
            part.map((r) => r.record),
            part.map((r) => r.request),
          ),
        )
      }
      let claimed = (await timed('claim', () => steps.claimQueued('bench-runner', batch, true))).claimed
      let done = 0
      while (claimed.length) {
        const ends = claimed.map((c) => ({
          id: c.state.id,
          attempt: c.state.attempt,
          to: 'success' as const,
          outcome: { kind: 'result' as const, value: '1' },
        }))
        // The ends alone, then the next claims alone: what the fused finish does in one.
        await timed('finish', () => steps.finish('bench-runner', ends, 0, true))
        done += ends.length
        claimed = (await timed('claim', () => steps.claimQueued('bench-runner', batch, true))).claimed
      }
      if (done !== n) throw new Error(`ran ${done} of ${n}`)
      for (let i = 0; i < n; i += 1000)
        await timed('readFinal', () => steps.readFinal(reqs.slice(i, i + 1000).map((r) => r.request.id)))
      const cpu1 = localPgServerCpuUs()
      const per = { route: 1000, claim: batch, finish: batch, readFinal: 1000 }
      out[`batch${batch}`] = {
        ...Object.fromEntries(
          (Object.keys(times) as (keyof typeof times)[]).map((k) => [
            k,
            {
              msPerStatement: round(median(times[k]), 2),
              usPerInv: Math.round((median(times[k]) * 1000) / per[k]),
            },
          ]),
        ),
        ...(cpu0 !== null && cpu1 !== null ? { pgServerCpuUsPerInv: Math.round((cpu1 - cpu0) / n) } : {}),
      }
    } finally {
      await backend.orchestrator.purge()
      await backend.stateBackend.purge()
      await backend.broker.purge()
      for (const c of new Set(COMPONENT_NAMES.map((name) => backend[name]))) await c.close()
    }
  }
  printLine({
    scenario,
    backend: 'postgres',
    n,
    nenc: {
      ...out,
      method:
        'one session, no concurrency: route in chunks of 1,000; claimQueued (start) and finish (ends only) in turn at the batch size; readFinal in chunks of 1,000 (median per statement)',
    },
    peer: null,
    note: 'nenc alone: what each step costs; the runner fuses the next claim into finish',
  })
}

async function initAll(backend: Backend, appId: string) {
  for (const c of new Set(COMPONENT_NAMES.map((name) => backend[name]))) await c.init({ appId })
}

function request(appId: string): { record: InvocationRecord; request: RegisterRequest } {
  const id = randomUUID()
  const taskId = `${appId}.noop`
  return {
    record: {
      id,
      taskId,
      taskName: 'noop',
      callId: `${taskId}:${id}`,
      args: '[1]',
      parentId: null,
      workflow: { id, type: taskId, parentWorkflowId: null },
      createdAt: Date.now(),
    },
    request: {
      id,
      taskId,
      callId: `${taskId}:${id}`,
      actor: 'bench-caller',
      registrationKey: null,
      runningKey: null,
      rerouteOnConcurrencyControl: false,
    },
  }
}
