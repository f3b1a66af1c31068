import { describe, expect, it } from 'vitest'
import { AppBinding, CoalescingNotifier, latestProgress } from '../src/index.js'

describe('AppBinding', () => {
  it('opens once for concurrent inits of one app and refuses another app', async () => {
    const b = new AppBinding(() => 'This test component')
    let opens = 0
    const open = async () => {
      opens++
    }
    await Promise.all([b.bind('one', open), b.bind('one', open), b.bind('one', open)])
    expect(opens).toBe(1)
    expect(b.appId).toBe('one')
    expect(() => b.bind('two', open)).toThrow(/bound to app "one" and cannot serve app "two"/)
  })

  it('a failed open leaves it unbound, so init can be retried (even for another app)', async () => {
    const b = new AppBinding(() => 'This test component')
    await expect(b.bind('one', async () => Promise.reject(new Error('down')))).rejects.toThrow('down')
    expect(b.boundAppId).toBeNull()
    expect(b.isOpen).toBe(false)
    await b.bind('two', async () => {})
    expect(b.appId).toBe('two')
  })

  it('closes once after the open settled, keeps its app, and opens again on the next init', async () => {
    const b = new AppBinding(() => 'This test component')
    const events: string[] = []
    let finishOpen: (() => void) | undefined
    const opening = b.bind('one', () =>
      new Promise<void>((r) => (finishOpen = r)).then(() => void events.push('open')),
    )
    const shutdown = async () => void events.push('close')
    const closed = Promise.all([b.release(shutdown), b.release(shutdown)])
    while (!finishOpen) await new Promise((r) => setImmediate(r))
    expect(events).toEqual([]) // the shutdown waits for the open
    finishOpen()
    await opening
    await closed
    expect(events).toEqual(['open', 'close'])
    expect(() => b.appId).toThrow(/not initialised/)
    expect(b.boundAppId).toBe('one')
    expect(() => b.bind('two', async () => {})).toThrow(/bound to app "one"/)
    await b.bind('one', async () => void events.push('open'))
    expect(events).toEqual(['open', 'close', 'open'])
    await b.release(async () => {}) // never-opened shutdowns and repeats are no-ops
    await b.release(shutdown)
    expect(events).toEqual(['open', 'close', 'open'])
  })

  it('an init that follows a close in flight opens after the shutdown finished', async () => {
    const b = new AppBinding(() => 'This test component')
    const events: string[] = []
    await b.bind('one', async () => void events.push('open'))
    const closing = b.release(() =>
      new Promise<void>((r) => setTimeout(r, 10)).then(() => void events.push('close')),
    )
    await b.bind('one', async () => void events.push('open again'))
    await closing
    expect(events).toEqual(['open', 'close', 'open again'])
  })
})

describe('CoalescingNotifier', () => {
  it('coalesces emissions of one turn into one call per listener; removed listeners hear nothing', async () => {
    const n = new CoalescingNotifier<string>()
    const got: string[][] = []
    const other: string[][] = []
    n.add((x) => got.push(x))
    const remove = n.add((x) => other.push(x))
    n.emit(['a'])
    n.emit(['b', 'c'])
    remove()
    await Promise.resolve()
    expect(got).toEqual([['a', 'b', 'c']])
    expect(other).toEqual([])
    expect(n.size).toBe(1)
  })

  it('an emit with no listener is dropped, not delivered to a later listener', async () => {
    const n = new CoalescingNotifier<string>()
    n.emit(['early'])
    const got: string[][] = []
    n.add((x) => got.push(x))
    await Promise.resolve()
    expect(got).toEqual([])
  })
})

describe('latestProgress', () => {
  it('keeps per id what a sequential store keeps: the highest attempt, the later report within it', () => {
    const r = (id: string, attempt: number, value: string) => ({ id, attempt, updatedAt: 1, value })
    expect(
      latestProgress([
        r('a', 2, 'a2'),
        r('a', 1, 'zombie'),
        r('b', 1, 'b1'),
        r('b', 1, 'b1 later'),
        r('a', 2, 'a2 later'),
      ]),
    ).toEqual([r('a', 2, 'a2 later'), r('b', 1, 'b1 later')])
  })
})
