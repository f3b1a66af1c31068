import { describe, expect, it } from 'vitest'
import type {
  Backend,
  FinishRequest,
  FusedSteps,
  InvocationState,
  NencRuntime,
  TransitionRequest,
} from '../src/index.js'
import { FinishBatcher } from '../src/index.js'

const state = (id: string, status: string, attempt = 1): InvocationState => ({
  id,
  taskId: 'app.t',
  status: status as InvocationState['status'],
  owner: null,
  timestamp: 1,
  retries: 0,
  attempt,
})

/**
 * A runtime whose backend has scripted fused steps: enough for the batcher, which only calls
 * `steps.finish` and, for released keys, `transition` and `route`.
 */
function runtime(finish: FusedSteps['finish']) {
  const warns: unknown[] = []
  const finals: string[] = []
  const transitions: TransitionRequest[][] = []
  const routed: string[][] = []
  const broker = { route: async (ids: string[]) => void routed.push(ids) }
  const orchestrator = {
    transition: async (r: TransitionRequest[]) => {
      transitions.push(r)
      return r.map((x) => ({ ok: true, state: state(x.id, x.to) }))
    },
  }
  const stateBackend = {}
  const backend = {
    broker,
    orchestrator,
    stateBackend,
    steps: { builtOver: { broker, orchestrator, stateBackend }, finish },
  } as unknown as Backend
  const rt = {
    backend,
    logger: { warn: (o: unknown) => warns.push(o), debug: () => {}, error: () => {} },
    waiter: { markFinal: (ids: string[]) => finals.push(...ids) },
  } as unknown as NencRuntime
  return { rt, warns, finals, transitions, routed }
}

const ok = (r: FinishRequest) => ({ ok: true as const, state: state(r.id, r.to, r.attempt) })
const nothing = { claimed: [], unclaimed: [], sawQueued: false }

describe('FinishBatcher', () => {
  it('ends finished in one event-loop turn go out as one finish step, with the claim room and start flag', async () => {
    const calls: unknown[][] = []
    const { rt, finals } = runtime(async (runnerId, items, claimNext, start) => {
      calls.push([runnerId, items.map((i) => i.id), claimNext, start])
      return { outcomes: items.map(ok), next: nothing }
    })
    const b = new FinishBatcher(rt, 'r1')
    b.claimRoom = () => 3
    b.startClaims = true
    await Promise.all([
      b.finish({ id: 'a', attempt: 1, to: 'success', outcome: { kind: 'result', value: '1' } }),
      b.finish({ id: 'b', attempt: 2, to: 'retry', delayMs: 10 }),
    ])
    expect(calls).toEqual([['r1', ['a', 'b'], 3, true]])
    expect(finals).toEqual(['a']) // a RETRY is not final
  })

  it('claims nothing while the runner stops, and hands the next claims to onWritten', async () => {
    const rooms: number[] = []
    const next = { claimed: [], unclaimed: [{ id: 'z', outcome: 'skipped' as const }], sawQueued: true }
    const { rt } = runtime(async (_r, items, claimNext) => {
      rooms.push(claimNext)
      return { outcomes: items.map(ok), next }
    })
    let stopping = false
    const b = new FinishBatcher(rt, 'r1', () => stopping)
    b.claimRoom = () => 5
    const seen: unknown[] = []
    b.onWritten = (n) => seen.push(n)
    await b.finish({ id: 'a', attempt: 1, to: 'success', outcome: { kind: 'result', value: '1' } })
    stopping = true
    await b.finish({ id: 'b', attempt: 1, to: 'success', outcome: { kind: 'result', value: '1' } })
    expect(rooms).toEqual([5, 0])
    expect(seen[0]).toBe(next)
  })

  it('logs a stale attempt at warn with the id and both attempts, and marks nothing final', async () => {
    const { rt, warns, finals } = runtime(async (_r, items) => ({
      outcomes: items.map((i) => ({
        ok: false as const,
        reason: 'stale' as const,
        attempt: i.attempt,
        current: state(i.id, 'success', 3),
      })),
      next: nothing,
    }))
    await new FinishBatcher(rt, 'zombie').finish({
      id: 'a',
      attempt: 2,
      to: 'success',
      outcome: { kind: 'result', value: '1' },
    })
    expect(warns).toEqual([
      { invocationId: 'a', attempt: 2, staleAttempt: 2, currentAttempt: 3, status: 'success' },
    ])
    expect(finals).toEqual([])
  })

  it('wakes the invocations an end released from its running key: REROUTED, queued', async () => {
    const { rt, transitions, routed } = runtime(async (_r, items) => ({
      outcomes: items.map((i) => ({ ...ok(i), released: ['parked-1'] })),
      next: nothing,
    }))
    await new FinishBatcher(rt, 'r1').finish({
      id: 'a',
      attempt: 1,
      to: 'success',
      outcome: { kind: 'result', value: '1' },
    })
    expect(transitions).toEqual([[{ id: 'parked-1', to: 'rerouted', actor: 'r1' }]])
    expect(routed).toEqual([['parked-1']])
  })

  it('retries a failed write (the runner still owns these ends) and says so through onWriteFailed', async () => {
    let attempts = 0
    const { rt } = runtime(async (_r, items) => {
      if (attempts++ === 0) throw new Error('backend down')
      return { outcomes: items.map(ok), next: nothing }
    })
    const b = new FinishBatcher(rt, 'r1')
    let failed = 0
    b.onWriteFailed = () => failed++
    await b.finish({ id: 'a', attempt: 1, to: 'success', outcome: { kind: 'result', value: '1' } })
    expect(attempts).toBe(2)
    expect(failed).toBe(1)
  })
})
