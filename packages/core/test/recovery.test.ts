import { describe, expect, it } from 'vitest'
import type { Backend, InvocationState, InvocationStatus, TransitionRequest } from '../src/index.js'
import { Nenc } from '../src/index.js'
import { recoverInvocations } from '../src/orchestration/recovery.js'

interface Stored {
  status: InvocationStatus
  /** ms epoch the status was entered. */
  since: number
  /** A scheduled call's run time (its record's `runAt`). */
  runAt?: number
}

/**
 * A stub orchestrator over a plain map: it answers the recovery queries from the map and applies
 * a transition only when `refuse` does not name the (id, target) pair, so each test can play a
 * live runner winning the race for one id.
 */
function setup(
  invocations: Record<string, Stored>,
  opts: {
    pendingForRecovery?: string[]
    runningForRecovery?: string[]
    queued?: number
    refuse?: (r: TransitionRequest) => boolean
  } = {},
) {
  const transitions: TransitionRequest[] = []
  const routed: string[] = []
  const warns: unknown[] = []
  const stateOf = (id: string): InvocationState => ({
    id,
    taskId: 'app.t',
    status: invocations[id]!.status,
    owner: null,
    timestamp: invocations[id]!.since,
    retries: invocations[id]!.status === 'retry' ? 1 : 0,
    attempt: 1,
  })
  const noop = { init: async () => {}, close: async () => {} }
  const orchestrator = {
    ...noop,
    getPendingForRecovery: async () => opts.pendingForRecovery ?? [],
    getRunningForRecovery: async () => opts.runningForRecovery ?? [],
    listInvocations: async (q: { statuses: InvocationStatus[] }) =>
      Object.keys(invocations).filter((id) => q.statuses.includes(invocations[id]!.status)),
    getStates: async (ids: string[]) => ids.map(stateOf),
    transition: async (reqs: TransitionRequest[]) =>
      reqs.map((r) => {
        transitions.push(r)
        if (opts.refuse?.(r)) return { ok: false, reason: 'invalid', current: stateOf(r.id) }
        invocations[r.id] = { status: r.to, since: Date.now() }
        return { ok: true, state: stateOf(r.id) }
      }),
  }
  const broker = {
    ...noop,
    count: async () => opts.queued ?? 0,
    route: async (ids: string[]) => void routed.push(...ids),
  }
  const stateBackend = {
    ...noop,
    getInvocations: async (ids: string[]) =>
      ids.map((id) => {
        const runAt = invocations[id]?.runAt
        return runAt === undefined ? { id } : { id, runAt }
      }),
  }
  const backend = {
    broker,
    orchestrator,
    stateBackend,
    clientDataStore: noop,
    triggerStore: noop,
  } as unknown as Backend
  const nenc = new Nenc({
    appId: 'app',
    backend,
    env: {},
    config: { orchestrator: { stuckAfterMs: 1000, parkedRecheckMs: 5000, lostQueuedAfterMs: 1000 } },
  })
  ;(nenc as unknown as { logger: unknown }).logger = { warn: (o: unknown) => warns.push(o), debug: () => {} }
  return { nenc, transitions, routed, warns, invocations }
}

const ago = (ms: number) => Date.now() - ms

describe('recoverInvocations', () => {
  it('takes PENDING too long and RUNNING of dead runners through their recovery status to REROUTED, queued once', async () => {
    const { nenc, transitions, routed, warns } = setup(
      { p: { status: 'pending', since: ago(60_000) }, r: { status: 'running', since: ago(60_000) } },
      { pendingForRecovery: ['p'], runningForRecovery: ['r'], queued: 5 },
    )
    const report = await recoverInvocations(nenc, 'recoverer')
    expect(report).toEqual({ pending: ['p'], running: ['r'], requeued: [], stuck: [] })
    expect(transitions.map((t) => [t.id, t.to, t.actor])).toEqual([
      ['p', 'pending_recovery', 'recoverer'],
      ['p', 'rerouted', 'recoverer'],
      ['r', 'running_recovery', 'recoverer'],
      ['r', 'rerouted', 'recoverer'],
    ])
    expect(routed).toEqual(['p', 'r'])
    expect(warns).toHaveLength(1)
  })

  it('leaves an id alone when a live runner moved it first (the recovery transition is refused)', async () => {
    const { nenc, routed } = setup(
      { r: { status: 'running', since: ago(60_000) } },
      { runningForRecovery: ['r'], queued: 1, refuse: (t) => t.to === 'running_recovery' },
    )
    const report = await recoverInvocations(nenc, 'recoverer')
    expect(report.running).toEqual([])
    expect(routed).toEqual([])
  })

  it('queues again available-for-run invocations lost between pop and claim, only while the queue is empty', async () => {
    const lost = {
      old: { status: 'registered' as const, since: ago(60_000) },
      fresh: { status: 'rerouted' as const, since: Date.now() },
    }
    const empty = setup({ ...lost })
    expect((await recoverInvocations(empty.nenc, 'x')).requeued).toEqual(['old'])
    expect(empty.routed).toEqual(['old'])
    const busy = setup({ ...lost }, { queued: 3 })
    expect((await recoverInvocations(busy.nenc, 'x')).requeued).toEqual([])
    expect(busy.routed).toEqual([])
  })

  it('leaves a scheduled call that is not due alone (its id waits in the queue as a delayed one), queues one that is', async () => {
    const { nenc, routed } = setup({
      later: { status: 'registered', since: ago(60_000), runAt: Date.now() + 60_000 },
      due: { status: 'registered', since: ago(60_000), runAt: Date.now() - 1 },
    })
    expect((await recoverInvocations(nenc, 'x')).requeued).toEqual(['due'])
    expect(routed).toEqual(['due'])
  })

  it('leaves a RETRY within its backoff alone (a delayed id the queue count leaves out), queues one past it', async () => {
    const { nenc, routed } = setup({
      backingOff: { status: 'retry', since: ago(90_000) },
      pastBackoff: { status: 'retry', since: ago(200_000) },
    })
    nenc.task('t', async () => 1, { maxRetries: 3, retryBackoffMs: 120_000, retryBackoffMaxMs: 120_000 })
    expect((await recoverInvocations(nenc, 'x')).requeued).toEqual(['pastBackoff'])
    expect(routed).toEqual(['pastBackoff'])
  })

  it('reroutes ids stranded between two steps after stuckAfterMs, and parked ones only after parkedRecheckMs', async () => {
    const { nenc, routed, invocations } = setup(
      {
        killed: { status: 'killed', since: ago(2000) },
        recent: { status: 'running_recovery', since: ago(10) },
        parkedOld: { status: 'concurrency_controlled', since: ago(6000) },
        parkedNew: { status: 'concurrency_controlled', since: ago(2000) },
      },
      { queued: 1 },
    )
    const report = await recoverInvocations(nenc, 'x')
    expect(report.stuck.sort()).toEqual(['killed', 'parkedOld'])
    expect(routed.sort()).toEqual(['killed', 'parkedOld'])
    expect(invocations.recent!.status).toBe('running_recovery')
    expect(invocations.parkedNew!.status).toBe('concurrency_controlled')
  })

  it('a stranded id whose owner finishes its own reroute first is queued exactly once', async () => {
    // The live runner's REROUTED lands between our listing and our transition: ours is refused.
    const { nenc, routed } = setup(
      { k: { status: 'killed', since: ago(5000) } },
      { queued: 1, refuse: (t) => t.to === 'rerouted' },
    )
    const report = await recoverInvocations(nenc, 'x')
    expect(report.stuck).toEqual([])
    expect(routed).toEqual([])
  })

  it('logs nothing when there is nothing to recover', async () => {
    const { nenc, warns, transitions } = setup({ ok: { status: 'success', since: ago(60_000) } })
    expect(await recoverInvocations(nenc, 'x')).toEqual({ pending: [], running: [], requeued: [], stuck: [] })
    expect(warns).toEqual([])
    expect(transitions).toEqual([])
  })
})
