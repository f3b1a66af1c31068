import { describe, expect, it } from 'vitest'
import { keyOf, RecordedValues, type WorkflowDataStore } from '../src/workflow/recorded-values.js'

/** A map store that counts reads, standing in for the state backend's workflow data. */
function mapStore() {
  const map = new Map<string, string>()
  let reads = 0
  const store: WorkflowDataStore = {
    get: async (w, k) => {
      reads++
      return map.get(`${w}/${k}`) ?? null
    },
    set: async (w, k, v) => void map.set(`${w}/${k}`, v),
  }
  return { store, map, reads: () => reads }
}

describe('RecordedValues (attempt-fenced recording)', () => {
  it('a first run reads nothing and records under its attempt', async () => {
    const { store, map, reads } = mapStore()
    const first = new RecordedValues(store, 'wf', 1)
    expect(await first.value('random:0', () => '0.5')).toBe('0.5')
    expect(reads()).toBe(0)
    expect(map.get(`wf/${keyOf('random:0', 1)}`)).toBe('0.5')
  })

  it('a run again reads the earlier value and records nothing', async () => {
    const { store, map } = mapStore()
    await new RecordedValues(store, 'wf', 1).value('uuid:0', () => 'u-1')
    const again = new RecordedValues(store, 'wf', 3)
    expect(await again.value('uuid:0', () => 'u-3')).toBe('u-1')
    expect([...map.keys()]).toEqual([`wf/${keyOf('uuid:0', 1)}`])
  })

  it("a zombie's late write never changes what later runs replay", async () => {
    const { store } = mapStore()
    const live = new RecordedValues(store, 'wf', 2) // claimed again: attempt 1 is presumed dead
    const zombie = new RecordedValues(store, 'wf', 1) // …but still runs
    const used = await live.value('now:0', () => 'live value')
    await zombie.value('now:0', () => 'zombie value') // lands under attempt 1
    const next = new RecordedValues(store, 'wf', 3)
    expect(await next.value('now:0', () => 'new')).toBe(used)
  })

  it('a zombie that wrote first is what the live run uses and records nothing over', async () => {
    const { store } = mapStore()
    await new RecordedValues(store, 'wf', 1).value('random:4', () => 'zombie first')
    const live = new RecordedValues(store, 'wf', 2)
    expect(await live.value('random:4', () => 'live')).toBe('zombie first')
    expect(await new RecordedValues(store, 'wf', 3).value('random:4', () => 'x')).toBe('zombie first')
  })
})
