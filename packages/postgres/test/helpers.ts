import { randomUUID } from 'node:crypto'
import { COMPONENT_NAMES } from '@nenc/core'
import pg from 'pg'
import { afterAll, afterEach } from 'vitest'
import { type PostgresBackend, type PostgresBackendOptions, postgresBackend } from '../src/index.js'

/** The test server (NENC_PG_URL, defaulting to the loopback server with trust auth). */
export const PG_URL = process.env.NENC_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A schema name no other test uses. */
export const freshSchemaName = (): string => `nenc_t_${randomUUID().replace(/-/g, '').slice(0, 16)}`

let adminPool: pg.Pool | null = null

/** A pool for the tests' own SQL (inspecting tables, terminating connections). */
export function admin(): pg.Pool {
  adminPool ??= new pg.Pool({ connectionString: PG_URL, max: 4 })
  return adminPool
}

afterAll(async () => {
  await adminPool?.end()
  adminPool = null
})

/** Initialises every distinct component of `backend` for `appId`. */
export async function initAll(backend: PostgresBackend, appId: string): Promise<PostgresBackend> {
  const seen = new Set<object>()
  for (const name of COMPONENT_NAMES) {
    if (seen.has(backend[name])) continue
    seen.add(backend[name])
    await backend[name].init({ appId })
  }
  return backend
}

export async function closeAll(backend: PostgresBackend): Promise<void> {
  for (const name of COMPONENT_NAMES) await backend[name].close()
}

/**
 * Each test gets fresh schemas: `schema()` names one (dropped after the test), `backend()` builds
 * and initialises components on it (closed after the test).
 */
export function usePostgres() {
  const schemas: string[] = []
  const backends: PostgresBackend[] = []

  afterEach(async () => {
    for (const b of backends.splice(0)) await closeAll(b)
    for (const s of schemas.splice(0)) await admin().query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
  })

  const schema = (): string => {
    const s = freshSchemaName()
    schemas.push(s)
    return s
  }

  let current: string | null = null
  /** Components for `appId` on the test's schema (or `options.schema`), initialised. */
  async function backend(
    appId = 'app',
    options: Partial<PostgresBackendOptions> = {},
  ): Promise<PostgresBackend> {
    current ??= schema()
    const b = postgresBackend({ connectionString: PG_URL, schema: current, ...options })
    backends.push(b)
    return initAll(b, appId)
  }

  afterEach(() => {
    current = null
  })

  /** The schema `backend()` uses in this test. */
  const currentSchema = (): string => {
    current ??= schema()
    return current
  }

  return { schema, backend, currentSchema, track: (b: PostgresBackend) => backends.push(b) }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Resolves when `predicate` holds, polling every 10 ms; throws after `timeoutMs`. */
export async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(10)
  }
}

/**
 * Counts the statements every pg client sends while `run` runs (the backend's round trips).
 * LISTEN traffic is excluded.
 */
export async function countStatements<T>(run: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const original = proto.query
  let statements = 0
  proto.query = function (this: unknown, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text
    if (!/^\s*(UN)?LISTEN/i.test(text ?? '')) statements++
    return original.apply(this, args)
  }
  try {
    const result = await run()
    return { result, statements }
  } finally {
    proto.query = original
  }
}

/** Register requests for `n` invocations (component-level tests). */
export function requests(
  n: number,
  over: Partial<{ runningKey: string | null; registrationKey: string | null; reroute: boolean }> = {},
) {
  return Array.from({ length: n }, () => {
    const id = randomUUID()
    return {
      id,
      taskId: 'app.t',
      callId: `app.t:${id}`,
      actor: 'client',
      registrationKey: over.registrationKey ?? null,
      runningKey: over.runningKey ?? null,
      rerouteOnConcurrencyControl: over.reroute ?? false,
    }
  })
}
