import { recordFor } from '@nenc/conformance'
import { describe, expect, it } from 'vitest'
import { admin, requests, sleep, usePostgres } from './helpers.js'

/**
 * The status updates of unkeyed invocations are heap-only (HOT): no index of `invocations`
 * holds a column they change, and the table's fillfactor leaves room on the page. Read from
 * PostgreSQL's own counters, which backends publish within ~1–10 s.
 */
describe('status updates are heap-only', () => {
  const pgt = usePostgres()

  it('route, claim with start and finish of 40 invocations: (nearly) every update of invocations is HOT', async () => {
    const b = await pgt.backend()
    const reqs = requests(40)
    await b.steps.route(reqs.map(recordFor), reqs)
    let batch = await b.steps.claimQueued('r1', 20, true)
    let ended = 0
    while (batch.claimed.length) {
      const ends = batch.claimed.map((c) => ({
        id: c.state.id,
        attempt: c.state.attempt,
        to: 'success' as const,
        outcome: { kind: 'result' as const, value: '1' },
      }))
      const done = await b.steps.finish('r1', ends, 20, true)
      ended += done.outcomes.filter((o) => o.ok).length
      batch = done.next
    }
    expect(ended).toBe(40)
    const read = async () =>
      (
        await admin().query(
          `SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables
           WHERE schemaname = $1 AND relname = 'invocations'`,
          [pgt.currentSchema()],
        )
      ).rows[0] as { upd: number; hot: number } | undefined
    // two updates per invocation (claim with start, end); the counters arrive late
    const deadline = Date.now() + 15_000
    let stats = await read()
    while ((stats?.upd ?? 0) < 80 && Date.now() < deadline) {
      await sleep(250)
      stats = await read()
    }
    expect(stats?.upd).toBeGreaterThanOrEqual(80)
    // Nearly all: an update finding its page full before PostgreSQL pruned the dead versions
    // there goes to another page (and then writes index entries). With an index on the status,
    // none would be HOT.
    expect(stats!.hot / stats!.upd).toBeGreaterThanOrEqual(0.9)
  }, 30_000)
})
