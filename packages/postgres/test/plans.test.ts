import { recordFor } from '@nenc/conformance'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { postgresBackend } from '../src/index.js'
import { initAll, PG_URL, requests, usePostgres } from './helpers.js'

/**
 * The runner's and caller's statements run on generic plans, made at each connection's first
 * use — typically on a fresh, empty schema, where the planner's costs tie between indexes. A
 * plan that reaches an invocation through anything but its key would scan the app's whole
 * index range on every lookup once the tables have grown, for as long as the connection lives.
 * So: build the plans on an empty schema (auto_explain reports every nested statement of the
 * functions as a NOTICE) and check each scan of the per-invocation tables.
 */
describe('plans of the hot statements, made on an empty schema', () => {
  const pgt = usePostgres()
  const pools: pg.Pool[] = []
  afterEach(async () => {
    for (const p of pools.splice(0)) await p.end()
  })

  /** A backend on a user's pool with `settings`, auto_explain reporting every plan as a NOTICE. */
  async function explained(settings = '-c jit=off -c plan_cache_mode=force_generic_plan') {
    const plans: string[] = []
    const pool = new pg.Pool({
      connectionString: PG_URL,
      max: 4,
      options: [
        settings,
        '-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0',
        '-c auto_explain.log_nested_statements=on -c auto_explain.log_level=notice',
      ].join(' '),
    })
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('notice', (n) => plans.push(n.message ?? '')))
    pools.push(pool)
    const b = postgresBackend({ pool, schema: pgt.currentSchema() })
    pgt.track(b)
    await initAll(b, 'app')
    return { b, plans }
  }

  /** Every scan of a per-invocation table in the collected plans, with its index condition. */
  function scans(plans: readonly string[]) {
    const tables =
      /\bon (invocations|invocation_records|active|outcomes|queue|waits|invocations_\w+|active_\w+|waits_\w+|queue_\w+|outcomes_\w+|invocation_records_\w+)\b/
    const found: { node: string; cond: string; query: string }[] = []
    for (const plan of plans) {
      const lines = plan.split('\n')
      const query = (/Query Text: ([^\n]*)/.exec(plan)?.[1] ?? '').trim().slice(0, 100)
      lines.forEach((line, i) => {
        if (!/Scan/.test(line) || !tables.test(line)) return
        let cond = ''
        for (let j = i + 1; j < lines.length && !/->/.test(lines[j]!); j++)
          if (/(Index|TID) Cond:/.test(lines[j]!)) cond += lines[j]!.trim()
        found.push({ node: line.trim().replace(/\s+\(cost.*$/, ''), cond, query })
      })
    }
    return found
  }

  /** A finish request per claimed invocation: SUCCESS with a small result. */
  const successes = (claimed: readonly { state: { id: string; attempt: number } }[]) =>
    claimed.map((c) => ({
      id: c.state.id,
      attempt: c.state.attempt,
      to: 'success' as const,
      outcome: { kind: 'result' as const, value: '1' },
    }))

  /** The steps a runner and a caller use, once each. */
  async function runSteps(b: Awaited<ReturnType<typeof explained>>['b']) {
    const plain = requests(30)
    const keyed = requests(3, { runningKey: 'k' })
    const all = [...plain, ...keyed]
    await b.steps.route(all.map(recordFor), all)
    const first = await b.steps.claimQueued('r1', 10, true)
    expect(first.claimed.length).toBeGreaterThan(0)
    const done = await b.steps.finish('r1', successes(first.claimed), 40, true)
    expect(done.outcomes.every((o) => o.ok)).toBe(true)
    const running = done.next.claimed.map((c) => c.state.id)
    await b.orchestrator.transition(running.map((id) => ({ id, to: 'paused', actor: 'r1' })))
    await b.steps.claimIds(
      'r2',
      keyed.map((r) => r.id),
    )
    await b.steps.readFinal(all.map((r) => r.id))
    // the components' own statements (the composed steps of a mixed backend)
    const more = requests(5)
    await b.stateBackend.upsertInvocations(more.map(recordFor))
    await b.orchestrator.register(more)
    await b.broker.route(more.map((r) => r.id))
    const popped = await b.broker.retrieve(5)
    await b.orchestrator.claim(popped, 'r3')
    await b.stateBackend.getInvocations(popped)
    await b.orchestrator.getStates(popped)
    await b.stateBackend.setOutcomes(
      popped.map((id) => ({ id, attempt: 1, outcome: { kind: 'result', value: '2' } })),
    )
    await b.stateBackend.getOutcomes(popped.map((id) => ({ id, attempt: 1 })))
    await b.orchestrator.getHistory(popped[0]!)
    // listings of active invocations (the runners' audit after a lost claim reply)
    await b.orchestrator.listInvocations({ statuses: ['pending', 'running'], limit: 100 })
    await b.orchestrator.pageInvocations({ statuses: ['running', 'paused'], limit: 10 })
    await b.orchestrator.getPendingForRecovery(0, 10)
    await b.orchestrator.getRunningForRecovery(0, 10)
    // retention's two steps (state first) and the outcome reads around them
    const finished = done.outcomes.flatMap((o) => (o.ok ? [o.state.id] : []))
    await b.stateBackend.getOutcomes(finished.map((id) => ({ id, attempt: 1 })))
    await b.stateBackend.deleteInvocations(finished)
    await b.orchestrator.deleteFinalInvocations(finished)
  }

  it("the steps and the components' per-invocation statements reach rows through their keys only", async () => {
    const { b, plans } = await explained()
    await runSteps(b)
    const found = scans(plans)
    expect(found.length).toBeGreaterThan(10)
    // Listing every active invocation (the audit's listing, recovery) reads the app's range of
    // the small `active` table on purpose; every other scan is of rows the statement names.
    const listsActive = (f: { node: string; query: string }) =>
      /active_pkey/.test(f.node) && /^SELECT (id|id, created_at|x\.id) FROM \(/.test(f.query)
    const bad = found.filter(
      (f) =>
        /Seq Scan/.test(f.node) ||
        // an index scan (bitmap ones included) must name the row (id, key, ctid) — not the app alone
        (/(Bitmap )?Index( Only)? Scan/.test(f.node) &&
          !listsActive(f) &&
          !/(\bid = |\bid = ANY|running_key = |registration_key = |waited_id|waiter_id = |ctid|available_at)/.test(
            f.cond,
          )),
    )
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([])
    // the listing indexes are never used by these statements
    expect(found.filter((f) => /created_idx|workflow_idx/.test(f.node))).toEqual([])
  })
  it("on a user's pool with the server's JIT settings, a 1,000-invocation batch is never compiled", async () => {
    // With the server's defaults (jit on above a cost of 100,000) the route of 1,000 invocations
    // was a plain statement that PostgreSQL JIT-compiled on every call (~80 ms, twice the run).
    // The steps' statements are calls of functions that set jit off: no plan, nested ones
    // included, is compiled.
    const { b, plans } = await explained('-c jit=on -c jit_above_cost=100000')
    const n = 1000
    const batch = requests(n)
    await b.steps.route(batch.map(recordFor), batch)
    const first = await b.steps.claimQueued('r1', n, true)
    expect(first.claimed).toHaveLength(n)
    const done = await b.steps.finish('r1', successes(first.claimed), n, true)
    expect(done.outcomes.every((o) => o.ok)).toBe(true)
    const finals = await b.steps.readFinal(batch.map((r) => r.id))
    expect(finals.every((f) => f.state?.status === 'success')).toBe(true)
    await b.orchestrator.register(requests(n))
    const bodies = plans.filter((p) => /Query Text: (WITH|\s*SELECT i\.id)/.test(p))
    // the nested statements of route, claim_next's claim, finish, read_final and register
    expect(bodies.length).toBeGreaterThanOrEqual(5)
    const compiled = plans.filter((p) => /\bJIT:/.test(p))
    expect(compiled.map((p) => (/Query Text: ([^\n]*)/.exec(p)?.[1] ?? '').slice(0, 80))).toEqual([])
  })
})
