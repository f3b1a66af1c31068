import { describe, expect, it } from 'vitest'
import { supportsChangeStreams } from '../src/connection.js'
import { FinalsWindow } from '../src/wakeups/finals-window.js'
import { minPollDelay, nextPollDelay, PollLoop } from '../src/wakeups/poll-loop.js'

describe('change-stream detection', () => {
  it('replica-set members and mongos routers have change streams; a standalone server does not', () => {
    expect(supportsChangeStreams({ setName: 'rs0', isWritablePrimary: true })).toBe(true)
    expect(supportsChangeStreams({ msg: 'isdbgrid' })).toBe(true)
    expect(supportsChangeStreams({ isWritablePrimary: true })).toBe(false)
    expect(supportsChangeStreams({ setName: '' })).toBe(false)
  })
})

describe('polling backoff', () => {
  it('never waits longer than the configured interval', () => {
    let d = minPollDelay(100)
    for (let i = 0; i < 20; i++) {
      d = nextPollDelay(d, i % 3 === 0, i % 3 === 1, 100)
      expect(d).toBeLessThanOrEqual(100)
      expect(d).toBeGreaterThanOrEqual(minPollDelay(100))
    }
  })

  it('polls soon after new work appears, then backs off while nothing changes', () => {
    expect(minPollDelay(100)).toBe(12)
    expect(minPollDelay(10)).toBe(5)
    expect(nextPollDelay(100, true, false, 100)).toBe(12)
    expect(nextPollDelay(12, false, true, 100)).toBe(24)
    expect(nextPollDelay(24, false, false, 100)).toBe(48)
    expect(nextPollDelay(48, true, true, 100)).toBe(96)
    expect(nextPollDelay(96, false, false, 100)).toBe(100)
  })

  it('PollLoop calls its check repeatedly, one at a time, survives failures and stops', async () => {
    let calls = 0
    let running = 0
    let overlap = false
    const loop = new PollLoop(async () => {
      calls++
      running++
      if (running > 1) overlap = true
      await new Promise((r) => setTimeout(r, 2))
      running--
      if (calls === 2) throw new Error('server briefly unreachable')
      return calls % 2 === 0
    }, 20)
    loop.start()
    await new Promise((r) => setTimeout(r, 200))
    await loop.stop()
    const seen = calls
    expect(seen).toBeGreaterThanOrEqual(5)
    expect(overlap).toBe(false)
    await new Promise((r) => setTimeout(r, 60))
    expect(calls).toBe(seen)
  })
})

describe('final-status polling window', () => {
  it('reports each finished id once and trails the newest timestamp by the lag', () => {
    const w = new FinalsWindow(1000)
    expect(w.seeded).toBe(false)
    w.seed(50_000, 0)
    expect(w.lowerBound).toBe(49_000)
    expect(w.absorb([{ id: 'a', finishedAt: 49_500 }], 10)).toEqual(['a'])
    expect(
      w.absorb(
        [
          { id: 'a', finishedAt: 49_500 },
          { id: 'b', finishedAt: 50_200 },
        ],
        20,
      ),
    ).toEqual(['b'])
    expect(w.lowerBound).toBe(49_200)
    // A straggler stamped before the newest one, committed later, is still reported.
    expect(w.absorb([{ id: 'c', finishedAt: 49_900 }], 30)).toEqual(['c'])
  })

  it('closes the window once nothing new arrived for the lag, so an idle app reads an empty range', () => {
    const w = new FinalsWindow(1000)
    w.seed(null, 0)
    expect(w.lowerBound).toBe(0)
    w.absorb([{ id: 'a', finishedAt: 5000 }], 100)
    expect(w.lowerBound).toBe(4000)
    w.absorb([{ id: 'a', finishedAt: 5000 }], 1200)
    expect(w.lowerBound).toBe(5001)
    // Ids below the window are forgotten; the window never moves back.
    w.absorb([], 5000)
    expect(w.lowerBound).toBe(5001)
    expect(w.absorb([{ id: 'b', finishedAt: 5001 }], 5001)).toEqual(['b'])
  })
})
