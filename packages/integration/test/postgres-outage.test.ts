import { randomUUID } from 'node:crypto'
import { isValidStatusPath, Nenc } from '@nenc/core'
import { postgresBackend } from '@nenc/postgres'
import { ThreadRunner } from '@nenc/runners'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

// Runner iterations and listeners log every dropped connection; that is expected here.
process.env.NENC_LOG_LEVEL ??= 'fatal'

const PG_URL = process.env.NENC_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const admin = new pg.Pool({ connectionString: PG_URL, max: 1 })
afterAll(() => admin.end())
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Terminates every server connection of the app (tagged by application_name), as a failover would. */
async function terminateConnections(applicationName: string): Promise<number> {
  const { rows } = await admin.query(
    'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [applicationName],
  )
  return rows.length
}

describe('PostgreSQL connections terminated while callers wait', () => {
  it('callers and the runner ride it out: every result arrives, every history is valid', async () => {
    const schema = `outage_${randomUUID().replaceAll('-', '').slice(0, 12)}`
    const applicationName = `nenc-outage-${schema}`
    const app = new Nenc({
      appId: `outage-${randomUUID().slice(0, 8)}`,
      backend: postgresBackend({
        connectionString: `${PG_URL}?application_name=${applicationName}`,
        schema,
        pollIntervalMs: 200,
      }),
      runner: new ThreadRunner({ maxThreads: 8 }),
      env: {},
      config: { runner: { idleWakeMs: 100 }, orchestrator: { resultPollMs: 200 } },
    })
    const slow = app.task('slow', async (i: number) => {
      await sleep(150)
      return i * 3
    })
    try {
      await app.runner.start()
      const group = await slow.parallelize(Array.from({ length: 40 }, (_, i) => [i] as [number]))
      const waiting = group.results()
      let terminated = 0
      for (let i = 0; i < 3; i++) {
        await sleep(250)
        terminated += await terminateConnections(applicationName)
      }
      expect(terminated).toBeGreaterThan(0)
      expect(await waiting).toEqual(Array.from({ length: 40 }, (_, i) => i * 3))
      // Reads made right after the last termination may meet a pooled connection that was cut
      // (one BackendUnavailableError, then the pool reconnects); the waits above rode it out.
      const history = async (inv: (typeof group.invocations)[number]) => {
        for (let i = 0; ; i++) {
          try {
            return await inv.history()
          } catch (err) {
            if (i >= 3) throw err
            await sleep(100)
          }
        }
      }
      for (const inv of group.invocations) {
        const statuses = (await history(inv)).map((h) => h.status)
        expect(isValidStatusPath(statuses), statuses.join(' → ')).toEqual({ ok: true })
        expect(statuses.at(-1)).toBe('success')
      }
    } finally {
      await app.runner.stop()
      await app.purge().catch(() => {})
      await app.close()
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    }
  }, 60_000)
})
