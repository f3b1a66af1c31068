import { describe, expect, it } from 'vitest'
import { MAX_INLINE_OUTCOME_CHARS, type Orchestrator } from '../src/index.js'
import { ResultWaiter } from '../src/orchestration/result-waiter.js'

describe('ResultWaiter outcomes that come with a final status', () => {
  it('keeps small ones for result() and never large ones (a runner process ends everything it runs)', () => {
    const waiter = new ResultWaiter({} as Orchestrator, 1000)
    const small = { kind: 'result' as const, value: '42' }
    const large = { kind: 'result' as const, value: `"${'x'.repeat(MAX_INLINE_OUTCOME_CHARS)}"` }
    waiter.markFinal(
      ['a', 'b'],
      new Map([
        ['a', small],
        ['b', large],
      ]),
    )
    expect(waiter.knownOutcome('a')).toEqual(small)
    expect(waiter.knownOutcome('b')).toBeUndefined()
    expect(waiter.isKnownFinal('b')).toBe(true)
  })

  it('stays bounded, dropping the oldest outcomes first, and keeps every final id known', () => {
    const waiter = new ResultWaiter({} as Orchestrator, 1000)
    const total = 30_000
    for (let b = 0; b < total; b += 50) {
      const ids = Array.from({ length: 50 }, (_, i) => `id-${b + i}`)
      waiter.markFinal(ids, new Map(ids.map((id) => [id, { kind: 'result' as const, value: id }])))
    }
    const kept = Array.from({ length: total }, (_, i) => `id-${i}`).filter((id) => waiter.knownOutcome(id))
    // 10,000 at most, plus up to an eighth more between trims; the newest are the ones kept.
    expect(kept.length).toBeGreaterThanOrEqual(10_000)
    expect(kept.length).toBeLessThanOrEqual(11_250)
    expect(kept.at(-1)).toBe(`id-${total - 1}`)
    expect(kept[0]).toBe(`id-${total - kept.length}`)
    expect(waiter.knownOutcome(`id-${total - 1}`)).toEqual({ kind: 'result', value: `id-${total - 1}` })
    expect(waiter.isKnownFinal('id-0')).toBe(true)
  })
})

describe('ResultWaiter final ids', () => {
  it('knows every id marked final, wakes its waits, and stays bounded dropping the oldest', async () => {
    const orchestrator = {
      subscribeFinal: async () => async () => {},
      getStates: async (ids: readonly string[]) =>
        ids.map((id) => ({
          id,
          status: 'running',
          taskId: 'a.t',
          owner: null,
          timestamp: 1,
          attempt: 1,
          retries: 0,
        })),
    } as unknown as Orchestrator
    const waiter = new ResultWaiter(orchestrator, 60_000)
    const all = waiter.waitAll(['w1', 'w2'])
    const any = waiter.waitAny(['w3', 'w4'])
    await new Promise((r) => setTimeout(r, 10))
    waiter.markFinal(['w1', 'x'])
    waiter.markFinal(['w1', 'w4'])
    expect(await any).toBe('w4')
    waiter.markFinal(['w2'])
    await all
    expect(['w1', 'w2', 'w4', 'x'].map((id) => waiter.isKnownFinal(id))).toEqual([true, true, true, true])
    expect(waiter.isKnownFinal('w3')).toBe(false)
    waiter.forget(['x'])
    expect(waiter.isKnownFinal('x')).toBe(false)
    // 100,000 at most: over it, the oldest go down to half.
    for (let b = 0; b < 150_000; b += 100) {
      waiter.markFinal(Array.from({ length: 100 }, (_, i) => `id-${b + i}`))
      if (b === 60_000) expect(waiter.isKnownFinal('id-0')).toBe(true) // some indexed, some not
    }
    expect(waiter.isKnownFinal('id-149999')).toBe(true)
    expect(waiter.isKnownFinal('id-0')).toBe(false)
    const known = Array.from({ length: 150_000 }, (_, i) => `id-${i}`).filter((id) => waiter.isKnownFinal(id))
    expect(known.length).toBeGreaterThanOrEqual(50_000)
    expect(known.length).toBeLessThanOrEqual(100_000)
    expect(known[0]).toBe(`id-${150_000 - known.length}`)
    await waiter.close()
  })
})
