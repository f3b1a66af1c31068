import { describe, expect, it } from 'vitest'
import type { Backend, ClaimBatch, InvocationState, NencRuntime } from '../src/index.js'
import { getInvocationsToRun, Nenc } from '../src/index.js'

const state = (
  id: string,
  status: InvocationState['status'],
  extra: Partial<InvocationState> = {},
): InvocationState => ({
  id,
  taskId: 'app.t',
  status,
  owner: 'r1',
  timestamp: Date.now(),
  retries: 0,
  attempt: 1,
  ...extra,
})

/** A runtime over scripted components and fused steps (blocking control configurable). */
function runtime(o: {
  blocking: string[]
  states: InvocationState[]
  queued: ClaimBatch
  blockingControl?: boolean
  /** Scheduled calls' run times, by id (their records carry `runAt`). */
  runAt?: Record<string, number>
}) {
  const calls: unknown[][] = []
  const broker = { route: async (ids: string[], opts?: unknown) => void calls.push(['route', ids, opts]) }
  const orchestrator = {
    getBlockingInvocations: async (max: number) => {
      calls.push(['getBlockingInvocations', max])
      return o.blocking
    },
    getStates: async (ids: string[]) => ids.map((id) => o.states.find((s) => s.id === id) ?? null),
  }
  const stateBackend = {
    getInvocations: async (ids: string[]) => {
      calls.push(['getInvocations', ids])
      return ids.map((id) => (o.runAt?.[id] === undefined ? { id } : { id, runAt: o.runAt[id] }))
    },
  }
  const steps = {
    builtOver: { broker, orchestrator, stateBackend },
    claimIds: async (runnerId: string, ids: string[]) => {
      calls.push(['claimIds', runnerId, ids])
      return {
        claimed: ids.map((id) => ({ state: state(id, 'pending'), record: null })),
        unclaimed: [],
        sawQueued: false,
      }
    },
    claimQueued: async (runnerId: string, max: number, start?: boolean) => {
      calls.push(['claimQueued', runnerId, max, start])
      return o.queued
    },
  }
  const backend = { broker, orchestrator, stateBackend, steps } as unknown as Backend
  // A real app only for its config and task registry; the backend above is what the claim uses.
  const app = new Nenc({
    appId: 'app',
    backend: {
      ...backend,
      clientDataStore: {},
      triggerStore: {},
    } as unknown as Backend,
    config: { orchestrator: { blockingControl: o.blockingControl ?? true, concurrencyRerouteDelayMs: 77 } },
    env: {},
  })
  app.task('t', async () => 1, { retryBackoffMs: 1000 })
  const rt = Object.assign(Object.create(app), { backend }) as NencRuntime
  return { rt, calls }
}

describe('getInvocationsToRun', () => {
  it('claims awaited invocations first, skips a RETRY still in its backoff, then fills the room from the queue (started)', async () => {
    const { rt, calls } = runtime({
      blocking: ['due', 'backing-off'],
      states: [
        state('due', 'registered'),
        state('backing-off', 'retry', { retries: 1, timestamp: Date.now() }),
      ],
      queued: { claimed: [{ state: state('q', 'running'), record: null }], unclaimed: [], sawQueued: true },
    })
    const round = await getInvocationsToRun(rt, 3, 'r1', true)
    expect(round.claimed.map((c) => c.state.id)).toEqual(['due', 'q'])
    expect(round.sawQueued).toBe(true)
    expect(calls.filter((c) => c[0] !== 'route')).toEqual([
      ['getBlockingInvocations', 3],
      ['getInvocations', ['due']],
      ['claimIds', 'r1', ['due']],
      ['claimQueued', 'r1', 2, true],
    ])
  })

  it('leaves an awaited scheduled call alone until its runAt (the queue releases it then)', async () => {
    const { rt, calls } = runtime({
      blocking: ['later', 'past', 'plain'],
      states: [state('later', 'registered'), state('past', 'registered'), state('plain', 'registered')],
      runAt: { later: Date.now() + 60_000, past: Date.now() - 1 },
      queued: { claimed: [], unclaimed: [], sawQueued: false },
    })
    const round = await getInvocationsToRun(rt, 3, 'r1')
    expect(round.claimed.map((c) => c.state.id)).toEqual(['past', 'plain'])
    expect(calls).toContainEqual(['claimIds', 'r1', ['past', 'plain']])
  })

  it('defers what cannot park (RETRY) by the reroute delay; parked and stale ids need nothing', async () => {
    const { rt, calls } = runtime({
      blocking: [],
      states: [],
      blockingControl: false,
      queued: {
        claimed: [],
        unclaimed: [
          { id: 'a', outcome: 'deferred' },
          { id: 'b', outcome: 'controlled' },
          { id: 'c', outcome: 'skipped' },
        ],
        sawQueued: true,
      },
    })
    const round = await getInvocationsToRun(rt, 5, 'r1')
    expect(round).toEqual({ claimed: [], sawQueued: true })
    expect(calls).toEqual([
      ['claimQueued', 'r1', 5, false],
      ['route', ['a'], { delayMs: 77 }],
    ])
  })

  it('claims nothing for no room', async () => {
    const { rt, calls } = runtime({
      blocking: ['x'],
      states: [],
      queued: { claimed: [], unclaimed: [], sawQueued: false },
    })
    expect(await getInvocationsToRun(rt, 0, 'r1')).toEqual({ claimed: [], sawQueued: false })
    expect(calls).toEqual([])
  })
})
