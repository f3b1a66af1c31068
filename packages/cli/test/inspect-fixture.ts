import { randomUUID } from 'node:crypto'
import type { Nenc } from '@nenc/core'
import { bindRunner, ThreadRunner } from '@nenc/runners'
import pg from 'pg'
import { afterAll, afterEach, beforeEach } from 'vitest'
import { fixture } from './helpers.js'

const PG_URL = process.env.NENC_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The app module the inspection tests load in-process and point the CLI at. */
export const INSPECT_APP = fixture('inspect-app.mjs')

/** What a test of the inspection commands works with (see {@link useInspectApp}). */
export interface InspectFixture<M extends { app: Nenc }> {
  /** This test's fresh instance of the app module. */
  readonly mod: M
  /** The environment that points the CLI process at the same app (id, backend, schema). */
  readonly env: Record<string, string>
  /** Starts a ThreadRunner for the app in this process (the commands read from another one). */
  runInProcess(): Promise<void>
}

const dropSchemas = (schemas: string[]) =>
  afterAll(async () => {
    if (!schemas.length) return
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
    await admin.end()
  })

/**
 * Registers, inside a `describe`, a fresh instance of the inspect app per test on `backend`
 * (its own app id, and on PostgreSQL its own schema, dropped after the file), and stops, purges
 * and closes it after each test.
 */
export function useInspectApp<M extends { app: Nenc }>(
  backend: 'redis' | 'postgres',
  prefix: string,
): InspectFixture<M> {
  const schemas: string[] = []
  dropSchemas(schemas)
  let mod: M | null = null
  let env: Record<string, string> = {}
  let runner: ThreadRunner | null = null
  beforeEach(async () => {
    const id = randomUUID().replace(/-/g, '').slice(0, 12)
    env = {
      NENC_TEST_BACKEND: backend,
      NENC_TEST_APP_ID: `cli-${prefix}-${id}`,
      NENC_TEST_PG_SCHEMA: `nenc_cli_${prefix}_${id}`,
    }
    if (backend === 'postgres') schemas.push(env.NENC_TEST_PG_SCHEMA!)
    Object.assign(process.env, env)
    // A fresh module instance per test: app id and schema come from the environment.
    mod = (await import(`${INSPECT_APP}?${id}`)) as M
  })
  afterEach(async () => {
    await runner?.stop()
    runner = null
    await mod?.app.purge()
    await mod?.app.close()
  })
  return {
    get mod() {
      if (!mod) throw new Error('useInspectApp: the app exists inside a test only')
      return mod
    },
    get env() {
      return env
    },
    async runInProcess() {
      runner = bindRunner(this.mod.app, new ThreadRunner({ maxThreads: 8 }))
      await runner.start()
    },
  }
}
