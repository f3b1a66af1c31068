import { describe, expect, it } from 'vitest'
import type { Backend, FusedSteps, InvocationState, TransitionRequest } from '../src/index.js'
import { composedSteps, stepsOf } from '../src/index.js'

/** A state as the orchestrator returns it. */
const state = (
  id: string,
  status: InvocationState['status'],
  attempt = 1,
  owner: string | null = 'r1',
): InvocationState => ({
  id,
  taskId: 'app.t',
  status,
  owner,
  timestamp: 1,
  retries: 0,
  attempt,
})

/**
 * The five components as a recording stub: each call is logged in order, and the answers are
 * whatever the test scripts. Enough for the composed steps, which only sequence component calls.
 */
function stubBackend(script: {
  retrieve?: string[]
  claim?: (ids: readonly string[]) => unknown[]
  transition?: (r: readonly TransitionRequest[]) => unknown[]
  getInvocations?: (ids: readonly string[]) => unknown[]
  getStates?: (ids: readonly string[]) => unknown[]
}) {
  const calls: [string, unknown][] = []
  const log =
    (name: string, answer: (arg: never) => unknown = () => undefined) =>
    async (arg: never, ...rest: unknown[]) => {
      calls.push([name, rest.length ? [arg, ...rest] : arg])
      return answer(arg)
    }
  const backend = {
    broker: {
      route: log('route'),
      retrieve: log('retrieve', () => script.retrieve ?? []),
    },
    orchestrator: {
      claim: log('claim', (ids: readonly string[]) => script.claim?.(ids) ?? []),
      transition: log('transition', (r: readonly TransitionRequest[]) =>
        script.transition
          ? script.transition(r)
          : r.map((x) => ({ ok: true, state: state(x.id, x.to, x.attempt ?? 1) })),
      ),
      getStates: log('getStates', (ids: readonly string[]) => script.getStates?.(ids) ?? []),
      register: log('register', (reqs: { id: string }[]) => reqs.map((r) => ({ id: r.id, reused: false }))),
    },
    stateBackend: {
      setOutcomes: log('setOutcomes'),
      getOutcomes: log('getOutcomes', (refs: { id: string }[]) =>
        refs.map((r) => ({ kind: 'result', value: `"${r.id}"` })),
      ),
      getInvocations: log('getInvocations', (ids: readonly string[]) =>
        script.getInvocations ? script.getInvocations(ids) : ids.map((id) => ({ id })),
      ),
      upsertInvocations: log('upsertInvocations'),
    },
    clientDataStore: {},
    triggerStore: {},
  } as unknown as Backend
  return { backend, calls, names: () => calls.map(([n]) => n) }
}

describe('composed steps', () => {
  it('finish writes the outcomes (with their attempts) before the fenced transitions, then queues accepted RETRYs', async () => {
    const { backend, calls, names } = stubBackend({
      transition: (r) =>
        r.map((x, i) => (i === 2 ? { ok: false, reason: 'stale' } : { ok: true, state: state(x.id, x.to) })),
    })
    await composedSteps(backend).finish(
      'r1',
      [
        { id: 'a', attempt: 3, to: 'success', outcome: { kind: 'result', value: '1' } },
        { id: 'b', attempt: 1, to: 'retry', delayMs: 500 },
        { id: 'c', attempt: 2, to: 'retry', delayMs: 500 },
      ],
      0,
    )
    expect(names()).toEqual(['setOutcomes', 'transition', 'route'])
    expect(calls[0]![1]).toEqual([{ id: 'a', attempt: 3, outcome: { kind: 'result', value: '1' } }])
    expect(calls[1]![1]).toEqual([
      { id: 'a', to: 'success', actor: 'r1', attempt: 3 },
      { id: 'b', to: 'retry', actor: 'r1', attempt: 1 },
      { id: 'c', to: 'retry', actor: 'r1', attempt: 2 },
    ])
    // c's RETRY was refused (stale): only b is queued again.
    expect(calls[2]![1]).toEqual([['b'], { delayMs: 500 }])
  })

  it('finish claims the next ids only when asked, and can start them', async () => {
    const none = stubBackend({})
    await composedSteps(none.backend).finish('r1', [], 0)
    expect(none.names()).not.toContain('retrieve')
    const some = stubBackend({
      retrieve: ['x', 'x', 'y'],
      claim: (ids) => ids.map((id) => ({ id, outcome: 'claimed', state: state(id, 'pending') })),
    })
    const { next } = await composedSteps(some.backend).finish('r1', [], 5, true)
    expect(some.calls.find(([n]) => n === 'claim')![1]).toEqual([['x', 'y'], 'r1'])
    expect(next.claimed.map((c) => [c.state.id, c.state.status])).toEqual([
      ['x', 'running'],
      ['y', 'running'],
    ])
  })

  it('a claim whose records cannot be read gives its claims back before the error reaches the runner', async () => {
    const { backend, calls } = stubBackend({
      retrieve: ['a'],
      claim: (ids) => ids.map((id) => ({ id, outcome: 'claimed', state: state(id, 'pending', 4) })),
      getInvocations: () => {
        throw new Error('state backend down')
      },
    })
    await expect(composedSteps(backend).claimQueued('r1', 1)).rejects.toThrow('state backend down')
    expect(calls.filter(([n]) => n === 'transition' || n === 'route').map(([, a]) => a)).toEqual([
      [{ id: 'a', to: 'rerouted', actor: 'r1', attempt: 4 }],
      ['a'],
    ])
  })

  it('readFinal reads the outcome of each final state’s attempt only', async () => {
    const { backend, calls } = stubBackend({
      getStates: () => [state('a', 'success', 2, null), state('b', 'running'), null],
    })
    const read = await composedSteps(backend).readFinal(['a', 'b', 'z'])
    expect(calls.find(([n]) => n === 'getOutcomes')![1]).toEqual([{ id: 'a', attempt: 2 }])
    expect(read.map((r) => r.outcome)).toEqual([{ kind: 'result', value: '"a"' }, null, null])
  })

  it('stepsOf uses fused steps only over the components they were built with', () => {
    const { backend } = stubBackend({})
    const fused = {
      builtOver: {
        broker: backend.broker,
        orchestrator: backend.orchestrator,
        stateBackend: backend.stateBackend,
      },
    } as FusedSteps
    const own: Backend = { ...backend, steps: fused }
    expect(stepsOf(own)).toBe(fused)
    const mixed: Backend = { ...own, stateBackend: { ...backend.stateBackend } }
    expect(stepsOf(mixed)).not.toBe(fused)
    expect(stepsOf(mixed)).toBe(stepsOf(mixed)) // composed once per backend object
  })
})
