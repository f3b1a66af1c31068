import { describe, expect, it } from 'vitest'
import { newInvocationId } from '../src/index.js'
import { childInvocationId, chooseChildIds, ReplayCursor } from '../src/orchestration/replay.js'

describe('child invocation ids', () => {
  const parent = newInvocationId()

  it('are deterministic in (parent, retries, position, call id) and differ when any changes', () => {
    const id = childInvocationId(parent, 0, 3, 'app.t:abc')
    expect(childInvocationId(parent, 0, 3, 'app.t:abc')).toBe(id)
    const others = [
      childInvocationId(parent, 1, 3, 'app.t:abc'),
      childInvocationId(parent, 0, 4, 'app.t:abc'),
      childInvocationId(parent, 0, 3, 'app.t:abd'),
      childInvocationId(newInvocationId(), 0, 3, 'app.t:abc'),
    ]
    expect(new Set([id, ...others]).size).toBe(5)
  })

  it('are UUIDs (version 8, RFC variant) that keep the parent time prefix', () => {
    const id = childInvocationId(parent, 2, 0, 'x')
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(id.slice(0, 13)).toBe(parent.slice(0, 13))
    // A parent id that is not a UUID still gives a well-formed id.
    expect(childInvocationId('not-a-uuid', 0, 0, 'x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8/)
  })
})

describe('ReplayCursor', () => {
  it('hands out positions in call order and knows whether an earlier run may exist', () => {
    const first = new ReplayCursor('p', 1, 0)
    expect(first.take(2)).toEqual([0, 1])
    expect(first.take(1)).toEqual([2])
    expect(first.isReplay).toBe(false)
    expect(new ReplayCursor('p', 2, 0).isReplay).toBe(true)
  })
})

describe('chooseChildIds', () => {
  /** A runtime whose orchestrator knows the given states (by id). */
  const rtWith = (known: Record<string, string>) =>
    ({
      backend: {
        orchestrator: {
          getStates: async (ids: readonly string[]) =>
            ids.map((id) => (known[id] ? { id, status: known[id] } : null)),
        },
      },
    }) as unknown as Parameters<typeof chooseChildIds>[0]
  const parent = newInvocationId()
  const call = { position: 0, callId: 'app.child:x' }

  it('on a first run routes fresh, without reading anything', async () => {
    const rt = {
      backend: {
        orchestrator: {
          getStates: async () => {
            throw new Error('no read expected')
          },
        },
      },
    }
    const [choice] = await chooseChildIds(rt as never, new ReplayCursor(parent, 1, 0), [call])
    expect(choice).toEqual({ fresh: childInvocationId(parent, 0, 0, call.callId) })
  })

  it('after a kill, stop or recovery (same retries) reuses the child whatever its status', async () => {
    const id = childInvocationId(parent, 0, 0, call.callId)
    const [choice] = await chooseChildIds(rtWith({ [id]: 'failed' }), new ReplayCursor(parent, 2, 0), [call])
    expect(choice).toEqual({ reuse: id })
  })

  it('after a RETRY reuses an earlier run’s child only if it succeeded', async () => {
    const gen0 = childInvocationId(parent, 0, 0, call.callId)
    const ok = await chooseChildIds(rtWith({ [gen0]: 'success' }), new ReplayCursor(parent, 2, 1), [call])
    expect(ok).toEqual([{ reuse: gen0 }])
    const failed = await chooseChildIds(rtWith({ [gen0]: 'failed' }), new ReplayCursor(parent, 2, 1), [call])
    expect(failed).toEqual([{ fresh: childInvocationId(parent, 1, 0, call.callId) }])
  })
})
