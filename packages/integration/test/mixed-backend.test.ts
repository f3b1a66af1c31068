import { randomUUID } from 'node:crypto'
import { describeBackend } from '@nenc/conformance'
import { type Backend, Nenc, stepsOf } from '@nenc/core'
import { postgresBackend } from '@nenc/postgres'
import { redisBackend } from '@nenc/redis'
import { ThreadRunner } from '@nenc/runners'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'

const REDIS_URL = process.env.NENC_REDIS_URL ?? 'redis://127.0.0.1:6379'
const PG_URL = process.env.NENC_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const schemas = new WeakMap<object, string>()
const admin = new pg.Pool({ connectionString: PG_URL, max: 1 })
afterAll(() => admin.end())

/**
 * Redis queues and coordinates; PostgreSQL keeps the records, outcomes and large arguments. The
 * spread copies Redis's fused steps, but they are built over Redis's own state backend, which
 * is replaced: core sees that and composes the five components.
 */
function mixed(): Backend {
  const schema = `mix_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const redis = redisBackend({ url: REDIS_URL })
  const postgres = postgresBackend({ connectionString: PG_URL, schema })
  const backend: Backend = {
    ...redis,
    stateBackend: postgres.stateBackend,
    clientDataStore: postgres.clientDataStore,
  }
  schemas.set(backend, schema)
  return backend
}

async function destroy(backend: Backend): Promise<void> {
  try {
    await Promise.all([backend.broker.purge(), backend.orchestrator.purge(), backend.stateBackend.purge()])
  } finally {
    for (const c of [
      backend.broker,
      backend.orchestrator,
      backend.stateBackend,
      backend.clientDataStore,
      backend.triggerStore,
    ])
      await c.close()
    await admin.query(`DROP SCHEMA IF EXISTS "${schemas.get(backend)}" CASCADE`)
  }
}

describeBackend('redis orchestration + postgres state', { create: () => mixed(), destroy })

describe('the docs index mixing example', () => {
  it('runs as written: Redis queues, PostgreSQL stores the results', async () => {
    const backend = mixed()
    expect(stepsOf(backend)).not.toBe(backend.steps)
    const app = new Nenc({
      appId: `mix-${randomUUID().slice(0, 8)}`,
      backend,
      runner: new ThreadRunner({ maxThreads: 4 }),
    })
    const add = app.task('add', async (a: number, b: number) => a + b)
    try {
      await app.runner.start()
      const group = await add.parallelize([
        [1, 2],
        [3, 4],
      ])
      expect(await group.results()).toEqual([3, 7])
      const [inv] = group.invocations
      const [state] = await backend.orchestrator.getStates([inv!.id])
      // The outcome lives in PostgreSQL under the final attempt.
      const [outcome] = await backend.stateBackend.getOutcomes([{ id: inv!.id, attempt: state!.attempt }])
      expect(outcome).toEqual({ kind: 'result', value: '3' })
    } finally {
      await app.runner.stop()
      await app.purge().catch(() => {})
      await app.close()
      await admin.query(`DROP SCHEMA IF EXISTS "${schemas.get(backend)}" CASCADE`)
    }
  })
})
