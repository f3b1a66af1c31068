import { ACTIVE_STATUSES, BackendError, FINAL_STATUSES, INITIAL_STATUS } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { LATEST_MIGRATION, postgresBackend } from '../src/index.js'
import { admin, closeAll, initAll, PG_URL, usePostgres } from './helpers.js'

const versions = async (schema: string) =>
  (await admin().query(`SELECT version FROM "${schema}".migrations ORDER BY version`)).rows.map(
    (r) => r.version as number,
  )

describe('migrations', () => {
  const pgt = usePostgres()

  it('init() creates the schema at the latest migration; a second init changes nothing', async () => {
    const schema = pgt.currentSchema()
    await pgt.backend('a')
    expect(await versions(schema)).toEqual(Array.from({ length: LATEST_MIGRATION }, (_, i) => i + 1))
    const tables = await admin().query(
      'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    )
    await pgt.backend('b')
    expect(await versions(schema)).toEqual(Array.from({ length: LATEST_MIGRATION }, (_, i) => i + 1))
    const again = await admin().query(
      'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    )
    expect(again.rows[0].n).toBe(tables.rows[0].n)
  })

  it('three migrators starting at once on a fresh schema all succeed, and migrate it once', async () => {
    const schema = pgt.schema()
    const backends = [1, 2, 3].map(() => postgresBackend({ connectionString: PG_URL, schema }))
    try {
      await Promise.all(backends.map((b, i) => initAll(b, `app-${i}`)))
      expect(await versions(schema)).toEqual(Array.from({ length: LATEST_MIGRATION }, (_, i) => i + 1))
      // every one of them works
      for (const b of backends) await b.broker.route(['x'])
      expect(await backends[0]!.broker.count()).toBe(1)
    } finally {
      for (const b of backends) await closeAll(b)
    }
  })

  it('a database at a newer migration is refused with a message saying to upgrade', async () => {
    const schema = pgt.currentSchema()
    await pgt.backend('a')
    await admin().query(`INSERT INTO "${schema}".migrations (version, name) VALUES ($1, 'from the future')`, [
      LATEST_MIGRATION + 1,
    ])
    const b = postgresBackend({ connectionString: PG_URL, schema })
    const err = await b.orchestrator.init({ appId: 'a' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendError)
    expect((err as Error).message).toContain(
      `is at migration ${LATEST_MIGRATION + 1} but this version of @nenc/postgres expects ≤ ${LATEST_MIGRATION}`,
    )
    expect((err as Error).message).toContain('upgrade @nenc/postgres')
    await closeAll(b)
  })

  it('a schema made by an earlier pre-release build (its migration since rewritten) is rebuilt', async () => {
    const schema = pgt.currentSchema()
    await pgt.backend('a')
    await admin().query(`UPDATE "${schema}".migrations SET checksum = 'an older build'`)
    await admin().query(`CREATE TABLE "${schema}".left_by_old_build (x int)`)
    const b = postgresBackend({ connectionString: PG_URL, schema })
    await initAll(b, 'a')
    const leftover = await admin().query('SELECT to_regclass($1) AS t', [`"${schema}".left_by_old_build`])
    expect(leftover.rows[0].t).toBeNull()
    expect(await versions(schema)).toEqual(Array.from({ length: LATEST_MIGRATION }, (_, i) => i + 1))
    // The rebuilt schema works: its functions are this build's.
    const [out] = await b.orchestrator.register([
      {
        id: 'rebuilt-1',
        taskId: 'a.t',
        callId: 'a.t:x',
        actor: 'test',
        registrationKey: null,
        runningKey: null,
        rerouteOnConcurrencyControl: true,
      },
    ])
    expect(out).toEqual({ id: 'rebuilt-1', reused: false })
    await closeAll(b)
  })

  it('migrate: false refuses an unmigrated schema and accepts a migrated one', async () => {
    const empty = pgt.schema()
    const b = postgresBackend({ connectionString: PG_URL, schema: empty, migrate: false })
    const err = await b.broker.init({ appId: 'a' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendError)
    expect((err as Error).message).toContain('run the migrations')
    expect((await admin().query('SELECT to_regnamespace($1) AS s', [empty])).rows[0].s).toBeNull()
    await closeAll(b)

    const schema = pgt.currentSchema()
    await pgt.backend('a')
    const ok = postgresBackend({ connectionString: PG_URL, schema, migrate: false })
    await initAll(ok, 'a')
    await ok.broker.route(['y'])
    await closeAll(ok)
  })

  it('no index of invocations holds a column that a transition of an unkeyed invocation changes (updates stay HOT)', async () => {
    const schema = pgt.currentSchema()
    await pgt.backend('a')
    const defs = (
      await admin().query('SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2', [
        schema,
        'invocations',
      ])
    ).rows.map((r) => r.indexdef as string)
    expect(defs.length).toBeGreaterThan(3)
    // reg_status and parked_seq change only on rows with a registration / running key
    const changing = [
      'status',
      'owner',
      'status_ts',
      'retries',
      'attempt',
      'final_kind',
      'final_value',
      'history',
    ]
    for (const d of defs)
      for (const c of changing) expect(d, `${d} names ${c}`).not.toMatch(new RegExp(`[ (]${c}[ ,)]`))
  })

  it('the only status named in the final schema is the initial one (registration index)', async () => {
    const schema = pgt.currentSchema()
    await pgt.backend('a')
    const defs = (
      await admin().query('SELECT indexdef FROM pg_indexes WHERE schemaname = $1', [schema])
    ).rows.map((r) => r.indexdef as string)
    const named = defs.filter((d) => /'[a-z_]+'::text/.test(d))
    expect(named).toHaveLength(1)
    expect(named[0]).toContain(`status = '${INITIAL_STATUS}'::text`)
    // the statuses of the status table travel as parameters; a literal here would drift from core
    expect(ACTIVE_STATUSES.length + FINAL_STATUSES.length).toBeGreaterThan(0)
  })
  it('every text column of every table compares byte by byte, whatever the database locale', async () => {
    const schema = pgt.currentSchema()
    await pgt.backend('a')
    const cols = (
      await admin().query(
        `SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns
         WHERE table_schema = $1 AND (data_type = 'text' OR udt_name = '_text')`,
        [schema],
      )
    ).rows as { table_name: string; column_name: string; collation_name: string | null }[]
    expect(cols.length).toBeGreaterThan(40)
    // the migrations ledger (migrate.ts) keeps the form every release has created it in
    expect(
      cols
        .filter((c) => c.table_name !== 'migrations' && c.collation_name !== 'C')
        .map((c) => `${c.table_name}.${c.column_name}`),
    ).toEqual([])
  })
})
