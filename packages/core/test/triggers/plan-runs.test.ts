import { describe, expect, it } from 'vitest'
import type { ResolvedTrigger } from '../../src/triggers/declare.js'
import { planRuns } from '../../src/triggers/fire.js'
import { type StoredContext, validCondition } from '../../src/triggers/valid-conditions.js'

function trigger(
  id: string,
  logic: 'and' | 'or',
  conditionIds: string[],
  missed: ResolvedTrigger['missed'] = 'skip',
) {
  return {
    id,
    taskName: id,
    logic,
    shape: 'single',
    conditions: conditionIds.map((c) => ({
      id: c,
      spec: { kind: 'event', code: c, equals: null, predicate: null },
    })),
    args: undefined,
    overlap: 'allow',
    missed,
    definition: { id, taskId: `app.${id}`, conditionIds, logic, spec: '{}' },
  } as ResolvedTrigger
}

const ev = (at: number, eventId: string): StoredContext => ({
  at,
  kind: 'event',
  eventId,
  code: 'c',
  payload: 'null',
  emittedAt: at,
})

function index(triggers: ResolvedTrigger[]) {
  const m = new Map<string, ResolvedTrigger[]>()
  for (const t of triggers) for (const c of t.conditions) m.set(c.id, [...(m.get(c.id) ?? []), t])
  return m
}

describe('planRuns: which trigger runs are due', () => {
  it('AND pairs the oldest valid condition of each condition; the unpaired rest waits', () => {
    const and = trigger('and', 'and', ['a', 'b'])
    const stored = [
      validCondition('a', ev(1, 'a1')),
      validCondition('a', ev(2, 'a2')),
      validCondition('b', ev(3, 'b1')),
    ]
    const plan = planRuns([and], index([and]), stored, 10, 1_000, 1_000)
    expect(plan.runs.map((r) => r.conditions.map((c) => c.valid.id))).toEqual([['a@a1', 'b@b1']])
    expect(plan.clear.sort()).toEqual(['a@a1', 'b@b1'])
  })

  it('OR gives one run per valid condition, with a run id stable across passes', () => {
    const or = trigger('or', 'or', ['a', 'b'])
    const stored = [validCondition('a', ev(1, 'a1')), validCondition('b', ev(2, 'b1'))]
    const first = planRuns([or], index([or]), stored, 10, 1_000, 1_000)
    const again = planRuns([or], index([or]), stored, 20, 1_000, 1_000)
    expect(first.runs).toHaveLength(2)
    expect(again.runs.map((r) => r.runId)).toEqual(first.runs.map((r) => r.runId))
    expect(new Set(first.runs.map((r) => r.runId)).size).toBe(2)
  })

  it('a condition shared by an OR and a waiting AND stays until the AND uses it or it expires', () => {
    const or = trigger('or', 'or', ['a'])
    const and = trigger('and', 'and', ['a', 'b'])
    const stored = [validCondition('a', ev(1, 'a1'))]
    const plan = planRuns([or, and], index([or, and]), stored, 10, 1_000, 1_000)
    expect(plan.runs.map((r) => r.trigger.id)).toEqual(['or'])
    expect(plan.clear).toEqual([])
    expect(planRuns([or, and], index([or, and]), stored, 1_002, 1_000, 1_000).clear).toEqual(['a@a1'])
  })

  it('a skip trigger ignores cron ticks older than the late tolerance that a catch-up trigger takes', () => {
    const skip = trigger('skip', 'or', ['cron'])
    const fill = trigger('fill', 'or', ['cron'], { catchUpWithinMs: 10_000 })
    const tick = (scheduledAt: number) => validCondition('cron', { at: 20_000, kind: 'cron', scheduledAt })
    const stored = [tick(12_000), tick(19_000)]
    const plan = planRuns([skip, fill], index([skip, fill]), stored, 20_000, 60_000, 5_000)
    expect(
      plan.runs.map((r) => [r.trigger.id, (r.conditions[0]!.context as { scheduledAt: number }).scheduledAt]),
    ).toEqual([
      ['skip', 19_000],
      ['fill', 12_000],
      ['fill', 19_000],
    ])
    expect(plan.clear.sort()).toEqual(['cron@12000', 'cron@19000'])
  })

  it('drops stored contexts this version cannot read', () => {
    const or = trigger('or', 'or', ['a'])
    const plan = planRuns(
      [or],
      index([or]),
      [{ id: 'x', conditionId: 'a', context: 'not json' }],
      1,
      1_000,
      1_000,
    )
    expect(plan).toEqual({ runs: [], clear: ['x'] })
  })
})
