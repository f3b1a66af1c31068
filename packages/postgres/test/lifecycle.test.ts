import { NencError } from '@nenc/core'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import {
  PostgresBroker,
  PostgresClientDataStore,
  PostgresConnection,
  PostgresOrchestrator,
  PostgresStateBackend,
  PostgresTriggerStore,
  postgresBackend,
} from '../src/index.js'
import { closeAll, initAll, PG_URL, usePostgres } from './helpers.js'

describe('lifecycle and connections', () => {
  const pgt = usePostgres()

  it('each component works alone, on its own connection', async () => {
    const schema = pgt.currentSchema()
    const options = { connectionString: PG_URL, schema }
    const broker = new PostgresBroker(options)
    const orchestrator = new PostgresOrchestrator(options)
    const state = new PostgresStateBackend(options)
    const data = new PostgresClientDataStore(options)
    const triggers = new PostgresTriggerStore(options)
    const all = [broker, orchestrator, state, data, triggers]
    await Promise.all(all.map((c) => c.init({ appId: 'solo' })))
    expect(new Set(all.map((c) => c.connection)).size).toBe(5)
    await broker.route(['a'])
    expect(await broker.retrieve(1)).toEqual(['a'])
    await data.store([{ key: 'k', value: 'v' }])
    expect(await data.retrieve(['k'])).toEqual(['v'])
    expect(await triggers.claimTriggerRun('r', 1000)).toBe(true)
    await state.setWorkflowData('w', 'k', '1')
    expect(await state.getWorkflowData('w', 'k')).toBe('1')
    expect(await orchestrator.listInvocations({})).toEqual([])
    for (const c of all) await c.close()
  })

  it('components can share a connection the caller builds', async () => {
    const connection = new PostgresConnection({ connectionString: PG_URL, schema: pgt.currentSchema() })
    const broker = new PostgresBroker(connection)
    const orchestrator = new PostgresOrchestrator(connection)
    await broker.init({ appId: 'x' })
    await orchestrator.init({ appId: 'x' })
    expect(broker.connection).toBe(orchestrator.connection)
    await broker.close()
    await broker.route(['still-open']).catch(() => {}) // closed component: refused
    expect(await orchestrator.listInvocations({})).toEqual([]) // the other still works
    await orchestrator.close()
    expect(() => connection.pool).toThrow(NencError)
  })

  it('a pool the caller passed is used and never ended', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 3 })
    const b = postgresBackend({ pool, schema: pgt.currentSchema() })
    await initAll(b, 'app')
    const unsubscribe = await b.broker.subscribe(() => {})
    await b.broker.route(['p'])
    await unsubscribe()
    await closeAll(b)
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1)
    expect(pool.totalCount - pool.idleCount).toBe(0) // the LISTEN client was given back
    await pool.end()
  })

  it('a pool the backend created is ended when its last component closes', async () => {
    const b = postgresBackend({ connectionString: PG_URL, schema: pgt.currentSchema() })
    await initAll(b, 'app')
    const pool = b.broker.connection.pool
    let ended = false
    pool.on('release', () => {})
    const end = pool.end.bind(pool)
    pool.end = async () => {
      ended = true
      return end()
    }
    await b.broker.close()
    await b.orchestrator.close()
    await b.stateBackend.close()
    await b.clientDataStore.close()
    expect(ended).toBe(false)
    await b.triggerStore.close()
    expect(ended).toBe(true)
    await closeAll(b) // idempotent
  })

  it('init() is idempotent for one app and refuses a second app', async () => {
    const b = await pgt.backend('one')
    await b.broker.init({ appId: 'one' })
    const err = await b.broker.init({ appId: 'two' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NencError)
    expect((err as Error).message).toContain('bound to app "one"')
  })

  it('a closed backend can be initialised again', async () => {
    const b = await pgt.backend('again')
    await b.broker.route(['1'])
    await closeAll(b)
    await initAll(b, 'again')
    expect(await b.broker.retrieve(5)).toEqual(['1'])
  })
})
