import { BackendError, BackendUnavailableError, CorruptDataError, NencError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { PostgresBroker, postgresBackend } from '../src/index.js'
import { admin, closeAll, requests, sleep, usePostgres } from './helpers.js'

describe('errors', () => {
  const pgt = usePostgres()

  it('an unreachable server is BackendUnavailableError with the driver error as cause', async () => {
    const b = postgresBackend({ connectionString: 'postgres://postgres@127.0.0.1:1/test' })
    const err = await b.orchestrator.init({ appId: 'a' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect((err as BackendUnavailableError).backend).toBe('postgres')
    expect((err as Error).cause).toBeInstanceOf(Error)
    await closeAll(b)
  })

  it('a failing query is BackendError with the driver error (and its SQLSTATE) as cause', async () => {
    const b = await pgt.backend()
    await admin().query(`DROP TABLE "${pgt.currentSchema()}".queue`)
    const err = await b.broker.retrieve(5).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendError)
    expect((err as Error).message).toContain('retrieve failed')
    expect(((err as Error).cause as { code?: string }).code).toBe('42P01')
  })

  it('a statement timeout is BackendError; the component keeps working afterwards', async () => {
    const b = await pgt.backend('app', { statementTimeoutMs: 300 })
    const [r] = requests(1)
    await b.orchestrator.register([r!])
    const holder = await admin().connect()
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT 1 FROM "${pgt.currentSchema()}".invocations WHERE id = $1 FOR UPDATE`, [
        r!.id,
      ])
      const err = await b.orchestrator
        .transition([{ id: r!.id, to: 'pending', actor: 'w' }])
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BackendError)
      expect(((err as Error).cause as { code?: string }).code).toBe('57014')
    } finally {
      await holder.query('ROLLBACK')
      holder.release()
    }
    expect((await b.orchestrator.transition([{ id: r!.id, to: 'pending', actor: 'w' }]))[0]!.ok).toBe(true)
  })

  it('a connection terminated mid-statement is BackendUnavailableError; the next call reconnects', async () => {
    const b = await pgt.backend()
    const [r] = requests(1)
    await b.orchestrator.register([r!])
    const holder = await admin().connect()
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT 1 FROM "${pgt.currentSchema()}".invocations WHERE id = $1 FOR UPDATE`, [
        r!.id,
      ])
      const pending = b.orchestrator
        .transition([{ id: r!.id, to: 'pending', actor: 'w' }])
        .catch((e: unknown) => e)
      let waiting: number | undefined
      for (let i = 0; i < 100 && !waiting; i++) {
        await sleep(20)
        const q = await admin().query(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1 AND pid <> pg_backend_pid()`,
          [`%"${pgt.currentSchema()}".%`], // the transition function's call
        )
        waiting = q.rows[0]?.pid
      }
      expect(waiting).toBeDefined()
      await admin().query('SELECT pg_terminate_backend($1)', [waiting])
      const err = await pending
      expect(err).toBeInstanceOf(BackendUnavailableError)
      expect(((err as Error).cause as { code?: string }).code).toBe('57P01')
    } finally {
      await holder.query('ROLLBACK')
      holder.release()
    }
    expect((await b.orchestrator.transition([{ id: r!.id, to: 'pending', actor: 'w' }]))[0]!.ok).toBe(true)
  })

  it('corrupt stored values are CorruptDataError, never a crash or a wrong answer', async () => {
    const b = await pgt.backend()
    const s = pgt.currentSchema()
    const [r, ok] = requests(2)
    await b.orchestrator.register([r!, ok!])
    await admin().query(`UPDATE "${s}".invocations SET status = 'bogus' WHERE id = $1`, [r!.id])
    await expect(b.orchestrator.getStates([r!.id])).rejects.toBeInstanceOf(CorruptDataError)
    await expect(
      b.orchestrator.transition([{ id: r!.id, to: 'pending', actor: 'w' }]),
    ).rejects.toBeInstanceOf(CorruptDataError)
    // a claim treats it as not available for run, and the rest of the batch is unaffected
    expect((await b.orchestrator.claim([r!.id, ok!.id], 'w')).map((o) => o.outcome)).toEqual([
      'skipped',
      'claimed',
    ])
    await admin().query(
      `UPDATE "${s}".invocations SET history = '["nope",1,1,"w",1]' || E'\\n' || history WHERE id = $1`,
      [ok!.id],
    )
    await expect(b.orchestrator.getHistory(ok!.id)).rejects.toBeInstanceOf(CorruptDataError)
    await b.stateBackend.setOutcomes([{ id: ok!.id, attempt: 1, outcome: { kind: 'result', value: '1' } }])
    await admin().query(`UPDATE "${s}".outcomes SET kind = 'weird' WHERE id = $1`, [ok!.id])
    await expect(b.stateBackend.getOutcomes([{ id: ok!.id, attempt: 1 }])).rejects.toBeInstanceOf(
      CorruptDataError,
    )
    await b.triggerStore.setTaskTriggers('t', [
      { id: 'x', taskId: 't', conditionIds: [], logic: 'or', spec: '{}' },
    ])
    await admin().query(`UPDATE "${s}".triggers SET logic = 'xor'`)
    await expect(b.triggerStore.getTriggers()).rejects.toBeInstanceOf(CorruptDataError)
  })

  it('a component used before init() says so', async () => {
    const broker = new PostgresBroker({ connectionString: 'postgres://unused@127.0.0.1:1/x' })
    const err = await broker.route(['x']).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NencError)
    expect((err as NencError).code).toBe('CONFIG')
    expect((err as Error).message).toContain('init')
  })
})
