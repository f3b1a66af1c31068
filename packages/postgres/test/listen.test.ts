import { recordFor } from '@nenc/conformance'
import { MAX_INLINE_OUTCOME_CHARS, type Outcome } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { postgresBackend } from '../src/index.js'
import { admin, initAll, PG_URL, requests, until, usePostgres } from './helpers.js'

describe('LISTEN/NOTIFY wake-ups', () => {
  const pgt = usePostgres()

  async function otherProcess() {
    const b = postgresBackend({ connectionString: PG_URL, schema: pgt.currentSchema() })
    pgt.track(b)
    return initAll(b, 'app')
  }

  /** Drives an invocation to SUCCESS from `b`; returns its id. */
  async function finishOne(b: Awaited<ReturnType<typeof otherProcess>>) {
    const [r] = requests(1)
    await b.orchestrator.register([r!])
    await b.orchestrator.claim([r!.id], 'w')
    await b.orchestrator.transition([{ id: r!.id, to: 'running', actor: 'w' }])
    await b.orchestrator.transition([{ id: r!.id, to: 'success', actor: 'w' }])
    return r!.id
  }

  it('subscribeFinal() hears final statuses reached in another process', async () => {
    const b = await pgt.backend()
    const other = await otherProcess()
    const seen: string[] = []
    await b.orchestrator.subscribeFinal((ids) => seen.push(...ids))
    const id = await finishOne(other)
    await until(() => seen.includes(id), 2000)
  })

  it('a large final batch arrives whole, split over several notifications', async () => {
    const b = await pgt.backend()
    const seen = new Set<string>()
    await b.orchestrator.subscribeFinal((ids) => {
      for (const id of ids) seen.add(id)
    })
    const reqs = requests(1500)
    const ids = reqs.map((r) => r.id)
    await b.orchestrator.register(reqs)
    await b.orchestrator.claim(ids, 'w')
    await b.orchestrator.transition(ids.map((id) => ({ id, to: 'running', actor: 'w' })))
    await b.orchestrator.transition(ids.map((id) => ({ id, to: 'failed', actor: 'w' })))
    await until(() => seen.size === 1500, 3000)
  })

  it("the fused finish's notifications carry the small outcomes it stored, under the 8,000-byte payload limit", async () => {
    const b = await pgt.backend()
    const heard = new Map<string, Outcome | undefined>()
    await b.orchestrator.subscribeFinal((ids, outcomes) => {
      for (const id of ids) heard.set(id, outcomes?.get(id))
    })
    const reqs = requests(400)
    await b.steps.route(reqs.map(recordFor), reqs)
    const claimed = (await b.steps.claimQueued('w', 400, true)).claimed
    expect(claimed).toHaveLength(400)
    // Small, at the limit, escaped (2,048 control characters: ~12 KB as JSON) and too large.
    const value = (i: number): string =>
      i % 4 === 0
        ? `"r${i}"`
        : i % 4 === 1
          ? 'x'.repeat(MAX_INLINE_OUTCOME_CHARS)
          : i % 4 === 2
            ? '\u0001'.repeat(MAX_INLINE_OUTCOME_CHARS)
            : 'y'.repeat(MAX_INLINE_OUTCOME_CHARS + 1)
    const order = claimed.map((c) => c.state.id)
    const done = await b.steps.finish(
      'w',
      claimed.map((c, i) => ({
        id: c.state.id,
        attempt: c.state.attempt,
        to: i % 8 === 0 ? ('failed' as const) : ('success' as const),
        outcome: { kind: i % 8 === 0 ? ('error' as const) : ('result' as const), value: value(i) },
      })),
      0,
    )
    expect(done.outcomes.every((o) => o.ok)).toBe(true)
    await until(() => heard.size === 400, 5000)
    order.forEach((id, i) => {
      const expected = i % 4 <= 1 ? { kind: i % 8 === 0 ? 'error' : 'result', value: value(i) } : undefined
      expect(heard.get(id), `entry ${i}`).toEqual(expected)
    })
    // What the notification carried is what is stored.
    const stored = await b.stateBackend.getOutcomes(
      order.map((id, i) => ({ id, attempt: claimed[i]!.state.attempt })),
    )
    order.forEach((id, i) => {
      const inline = heard.get(id)
      if (inline) expect(stored[i]).toEqual(inline)
    })
  })

  it('a final status reached without an outcome in the same statement is announced by id only', async () => {
    const b = await pgt.backend()
    const heard: [string, Outcome | undefined][] = []
    await b.orchestrator.subscribeFinal((ids, outcomes) => {
      for (const id of ids) heard.push([id, outcomes?.get(id)])
    })
    const id = await finishOne(b)
    await until(() => heard.length === 1, 2000)
    expect(heard).toEqual([[id, undefined]])
  })

  it('pg_terminate_backend on the LISTEN connection: it reconnects by itself and wake-ups still arrive', async () => {
    const b = await pgt.backend('app', { reconnectDelayMs: 300, pollIntervalMs: 60_000 })
    const other = await otherProcess()
    let wakes = 0
    const finals: string[] = []
    await b.broker.subscribe(() => wakes++)
    await b.orchestrator.subscribeFinal((ids) => finals.push(...ids))
    const listener = b.broker.connection.listener
    const pid = listener.pid
    expect(pid).not.toBeNull()
    expect(b.orchestrator.connection.listener).toBe(listener) // one LISTEN connection for both

    await admin().query('SELECT pg_terminate_backend($1)', [pid])
    await until(() => listener.pid === null, 2000)
    // routed while nobody listens: the notification is lost, the reconnect wakes the subscriber
    const lostAt = wakes
    await other.broker.route(['during-outage'])
    await until(() => listener.reconnects === 1 && listener.pid !== null, 3000)
    expect(listener.pid).not.toBe(pid)
    await until(() => wakes > lostAt, 2000)

    const before = wakes
    await other.broker.route(['after'])
    await until(() => wakes > before, 2000)
    const id = await finishOne(other)
    await until(() => finals.includes(id), 2000)
  })

  it('unsubscribing the last listener gives the LISTEN connection back to the pool', async () => {
    const b = await pgt.backend()
    const pool = b.broker.connection.pool
    const unsubscribe = await b.broker.subscribe(() => {})
    const listener = b.broker.connection.listener
    expect(listener.pid).not.toBeNull()
    await until(() => pool.totalCount - pool.idleCount === 1, 2000) // held for LISTEN
    await unsubscribe()
    expect(listener.pid).toBeNull()
    expect(pool.totalCount - pool.idleCount).toBe(0)
  })

  it('progress pushed to several subscribers costs one read per report, and each hears it once', async () => {
    const b = await pgt.backend()
    const other = await otherProcess()
    const state = b.stateBackend
    let reads = 0
    const read = state.getProgress.bind(state)
    state.getProgress = (ids) => {
      reads++
      return read(ids)
    }
    const heard: string[][] = [[], [], []]
    const stops = await Promise.all(
      heard.map((h) => state.subscribeProgress!((records) => h.push(...records.map((r) => r.value)))),
    )
    await other.stateBackend.setProgress([{ id: 'inv-1', attempt: 1, updatedAt: 1, value: '"half"' }])
    await until(() => heard.every((h) => h.length === 1), 2000)
    expect(heard).toEqual([['"half"'], ['"half"'], ['"half"']])
    expect(reads).toBe(1)
    // The last subscriber to leave stops the feed; a new one starts it again.
    for (const stop of stops) await stop()
    const again: string[] = []
    const stop = await state.subscribeProgress!((records) => again.push(...records.map((r) => r.value)))
    await other.stateBackend.setProgress([{ id: 'inv-1', attempt: 1, updatedAt: 2, value: '"all"' }])
    await until(() => again.length === 1, 2000)
    expect(heard.flat()).toHaveLength(3)
    await stop()
  })
})
