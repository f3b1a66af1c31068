import { describe, expect, it } from 'vitest'
import type { DueRun } from '../../src/triggers/fire.js'
import { RunsInDoubt, triggerRunInvocationId } from '../../src/triggers/run-recovery.js'

describe('trigger run recovery', () => {
  it('a run always gets the same UUID-shaped invocation id, led by its due time', () => {
    const at = Date.UTC(2030, 0, 7, 12, 0, 0)
    const real = (runId: string, ...times: number[]): DueRun =>
      ({
        runId,
        conditions: times.map((t) => ({ valid: {}, context: { kind: 'cron', at: t, scheduledAt: t } })),
      }) as unknown as DueRun
    const id = triggerRunInvocationId(real('r1', at - 5, at))
    expect(id).toBe(triggerRunInvocationId(real('r1', at - 5, at)))
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(id.replaceAll('-', '').slice(0, 12)).toBe(at.toString(16).padStart(12, '0'))
    expect(triggerRunInvocationId(real('r2', at - 5, at))).not.toBe(id)
  })

  it('a run is due for recovery only after being in doubt that long, and forgotten once it is not', () => {
    const doubt = new RunsInDoubt()
    expect([...doubt.observe(['a', 'b'], 1_000, 5_000)]).toEqual([])
    expect([...doubt.observe(['a', 'b'], 5_999, 5_000)]).toEqual([])
    // b left doubt (routed): seen again later, its wait starts over.
    expect([...doubt.observe(['a'], 6_000, 5_000)]).toEqual(['a'])
    expect([...doubt.observe(['a', 'b'], 7_000, 5_000)]).toEqual(['a'])
    doubt.forget('a')
    expect([...doubt.observe(['a', 'b'], 8_000, 5_000)]).toEqual([])
    expect([...doubt.observe(['a', 'b'], 13_000, 5_000)]).toEqual(['a', 'b'])
  })
})
