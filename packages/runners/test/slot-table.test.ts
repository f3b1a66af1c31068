import { describe, expect, it } from 'vitest'
import { SlotTable } from '../src/slot-table.js'

describe('SlotTable', () => {
  it('settles a slot when its run resolves, and reports whether it was killed', async () => {
    const slots = new SlotTable()
    const settled: [string, boolean][] = []
    let finish!: () => void
    slots.launch(
      'a',
      () => new Promise<void>((r) => (finish = r)),
      (killed) => settled.push(['a', killed]),
    )
    slots.launch(
      'b',
      (abort) => new Promise<void>((r) => abort.signal.addEventListener('abort', () => r())),
      (killed) => settled.push(['b', killed]),
    )
    expect(slots.ids).toEqual(['a', 'b'])
    expect(slots.busy).toBe(2)
    slots.kill(['b'])
    finish()
    await slots.settled(1000)
    expect(settled.sort()).toEqual([
      ['a', false],
      ['b', true],
    ])
    expect(slots.ids).toEqual([])
    expect(slots.busy).toBe(0)
  })

  it('a run that rejects still settles its slot (waiting count too), and its rejection is kept', async () => {
    const slots = new SlotTable()
    const settled: boolean[] = []
    let fail!: (err: Error) => void
    slots.launch(
      'a',
      () => new Promise<void>((_, reject) => (fail = reject)),
      (killed) => settled.push(killed),
    )
    expect(slots.markWaiting('a')).toBe(true)
    expect(slots.busy).toBe(0)
    const done = slots.settled(1000)
    fail(new Error('boom'))
    await expect(done).rejects.toThrow('boom')
    expect(settled).toEqual([false])
    expect(slots.ids).toEqual([])
    expect(slots.busy).toBe(0)
  })
})
