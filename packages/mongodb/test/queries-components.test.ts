import { AVAILABLE_FOR_RUN_STATUSES, CorruptDataError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { appPrefix, collectionNames } from '../src/names.js'
import { blockingPipeline, edgeUpserts, MARK_BLOCKING, releaseEdgesFilter } from '../src/queries/blocking.js'
import {
  dueFilter,
  futureFilter,
  QUEUE_FEED_PIPELINE,
  QUEUE_ORDER,
  queueDocs,
} from '../src/queries/broker.js'
import { activeRunnersQuery, heartbeatUpserts } from '../src/queries/runners.js'
import {
  decodeRecord,
  firstPerAttempt,
  outcomeId,
  outcomeKey,
  outcomeRefOf,
  outcomeUpserts,
  recordFinishedStamps,
  recordUpserts,
  runnerContextDoc,
  workflowDataId,
} from '../src/queries/state.js'
import {
  cronCasFilter,
  setTaskTriggersUpdate,
  triggerRunClaim,
  triggersFilter,
  validConditionUpserts,
} from '../src/queries/triggers.js'

const names = collectionNames(appPrefix('nenc', 'app'))

describe('broker queries', () => {
  it('route() inserts one entry per id, in order, due now or after the delay', () => {
    expect(queueDocs(['a', 'b', 'a'], 1000)).toEqual([
      { inv: 'a', availableAt: 1000 },
      { inv: 'b', availableAt: 1000 },
      { inv: 'a', availableAt: 1000 },
    ])
    expect(queueDocs(['a'], 1000, 250)).toEqual([{ inv: 'a', availableAt: 1250 }])
    expect(queueDocs(['a'], 1000, -5)).toEqual([{ inv: 'a', availableAt: 1000 }])
  })

  it('retrieve() takes due nenc entries oldest first; foreign documents never match', () => {
    expect(dueFilter(42)).toEqual({ availableAt: { $lte: 42 }, inv: { $type: 'string' } })
    expect(futureFilter(42)).toEqual({ availableAt: { $gt: 42 }, inv: { $type: 'string' } })
    expect(QUEUE_ORDER).toEqual({ availableAt: 1, _id: 1 })
  })

  it('the change-stream feed watches inserts and keeps only their due time', () => {
    expect(QUEUE_FEED_PIPELINE).toEqual([
      { $match: { operationType: 'insert' } },
      { $project: { 'fullDocument.availableAt': 1 } },
    ])
  })
})

describe('blocking-control queries', () => {
  it('edges are idempotent upserts keyed by (waiter, waited), duplicates in one call collapsed', () => {
    expect(edgeUpserts('p', ['c1', 'c2', 'c1'], 7)).toEqual([
      {
        updateOne: {
          filter: { waiter: 'p', waited: 'c1' },
          update: { $setOnInsert: { waiter: 'p', waited: 'c1', at: 7 } },
          upsert: true,
        },
      },
      {
        updateOne: {
          filter: { waiter: 'p', waited: 'c2' },
          update: { $setOnInsert: { waiter: 'p', waited: 'c2', at: 7 } },
          upsert: true,
        },
      },
    ])
    expect(MARK_BLOCKING).toEqual({ $set: { blk: true } })
  })

  it('a final invocation releases the edges on both of its sides', () => {
    expect(releaseEdgesFilter(['x', 'y'])).toEqual({
      $or: [{ waited: { $in: ['x', 'y'] } }, { waiter: { $in: ['x', 'y'] } }],
    })
  })

  it('ranks waited invocations that wait on nothing and are available for run, most waiters first', () => {
    expect(blockingPipeline(names, 3)).toEqual([
      { $group: { _id: '$waited', waiters: { $sum: 1 } } },
      { $lookup: { from: 'nenc_app_waits', localField: '_id', foreignField: 'waiter', as: 'waitsFor' } },
      { $match: { waitsFor: { $size: 0 } } },
      { $lookup: { from: 'nenc_app_invocations', localField: '_id', foreignField: '_id', as: 'invocation' } },
      { $unwind: '$invocation' },
      { $match: { 'invocation.status': { $in: [...AVAILABLE_FOR_RUN_STATUSES] } } },
      { $sort: { waiters: -1, 'invocation.createdAt': 1, _id: 1 } },
      { $limit: 3 },
      { $project: { _id: 1 } },
    ])
  })
})

describe('runner queries', () => {
  it('a heartbeat upsert sets createdAt once and moves lastHeartbeat every time', () => {
    expect(heartbeatUpserts(['r1', 'r1'], true, 50)).toEqual([
      {
        updateOne: {
          filter: { _id: 'r1' },
          update: {
            $set: { lastHeartbeat: 50, canRunAtomicService: true, seenAt: new Date(50) },
            $setOnInsert: { createdAt: 50 },
          },
          upsert: true,
        },
      },
    ])
    expect(activeRunnersQuery(10)).toEqual({
      filter: { lastHeartbeat: { $gte: 10 } },
      sort: { createdAt: 1, _id: 1 },
    })
  })
})

describe('state backend queries', () => {
  it('records are upserted field by field, so a stored outcome survives a repeat upsert', () => {
    const [op] = recordUpserts([
      {
        id: 'i',
        taskId: 'app.t',
        taskName: 't',
        callId: 'app.t:h',
        args: '[]',
        parentId: 'p',
        workflow: { id: 'w', type: 'app.t', parentWorkflowId: null },
        createdAt: 3,
      },
    ])
    expect(op).toEqual({
      updateOne: {
        filter: { _id: 'i' },
        update: {
          $set: {
            taskId: 'app.t',
            taskName: 't',
            callId: 'app.t:h',
            args: '[]',
            parentId: 'p',
            workflow: { id: 'w', type: 'app.t', parentWorkflowId: null },
            createdAt: 3,
            runAt: null,
            traceContext: null,
          },
        },
        upsert: true,
      },
    })
  })

  it("a scheduled call's runAt is stored and read back; an ordinary record reads back without one", () => {
    const base = {
      id: 'i',
      taskId: 'app.t',
      taskName: 't',
      callId: 'app.t:h',
      args: '[]',
      parentId: null,
      workflow: { id: 'i', type: 'app.t', parentWorkflowId: null },
      createdAt: 3,
    }
    const [op] = recordUpserts([{ ...base, runAt: 99 }])
    const set = (op as { updateOne: { update: { $set: Record<string, unknown> } } }).updateOne.update.$set
    expect(set.runAt).toBe(99)
    const { id: _id, ...fields } = base
    expect(decodeRecord({ _id: 'i', ...fields, runAt: 99 }, 'x')).toEqual({ ...base, runAt: 99 })
    expect(decodeRecord({ _id: 'i', ...fields, runAt: null }, 'x')).not.toHaveProperty('runAt')
    expect(() => decodeRecord({ _id: 'i', ...fields, runAt: 'soon' as unknown as number }, 'x')).toThrow(
      CorruptDataError,
    )
  })

  it('outcomes are keyed by (id, attempt), written once, and start the retention clock in server time', () => {
    expect(
      outcomeUpserts([
        { id: 'i', attempt: 1, outcome: { kind: 'result', value: '1' } },
        { id: 'i', attempt: 2, outcome: { kind: 'error', value: '{}' } },
      ]),
    ).toEqual([
      {
        updateOne: {
          filter: { _id: { i: 'i', a: 1 } },
          update: {
            $setOnInsert: { outcome: { kind: 'result', value: '1' } },
            $currentDate: { finishedAt: true },
          },
          upsert: true,
        },
      },
      {
        updateOne: {
          filter: { _id: { i: 'i', a: 2 } },
          update: {
            $setOnInsert: { outcome: { kind: 'error', value: '{}' } },
            $currentDate: { finishedAt: true },
          },
          upsert: true,
        },
      },
    ])
    // The outcome is never in a $set: a repeat of the same attempt cannot overwrite it.
    for (const op of outcomeUpserts([{ id: 'i', attempt: 0, outcome: { kind: 'result', value: 'x' } }])) {
      expect((op as { updateOne: { update: object } }).updateOne.update).not.toHaveProperty('$set')
    }
    expect(recordFinishedStamps(['i', 'j', 'i'])).toEqual([
      { updateOne: { filter: { _id: 'i' }, update: { $currentDate: { finishedAt: true } }, upsert: true } },
      { updateOne: { filter: { _id: 'j' }, update: { $currentDate: { finishedAt: true } }, upsert: true } },
    ])
  })

  it('outcome ids per attempt: distinct attempts never share a document; separators cannot collide', () => {
    expect(outcomeId({ id: 'a', attempt: 3 })).toEqual({ i: 'a', a: 3 })
    expect(outcomeId({ id: 'a', attempt: 1 })).not.toEqual(outcomeId({ id: 'a', attempt: 2 }))
    expect(Object.keys(outcomeId({ id: 'a', attempt: 1 }))).toEqual(['i', 'a'])
    expect(outcomeKey({ id: '1:a', attempt: 2 })).not.toBe(outcomeKey({ id: 'a', attempt: 21 }))
    expect(outcomeKey({ id: 'a:1', attempt: 2 })).not.toBe(outcomeKey({ id: 'a', attempt: 12 }))
    expect(outcomeRefOf({ _id: { i: 'a', a: 2 } })).toEqual({ id: 'a', attempt: 2 })
    expect(outcomeRefOf({ _id: 'a' })).toBeNull()
    expect(outcomeRefOf({ _id: { i: 'a', a: -1 } })).toBeNull()
  })

  it('within one batch the first outcome of an attempt wins (write-once); other attempts are kept', () => {
    const r = (value: string) => ({ kind: 'result' as const, value })
    expect(
      firstPerAttempt([
        { id: 'i', attempt: 1, outcome: r('first') },
        { id: 'i', attempt: 1, outcome: r('second') },
        { id: 'i', attempt: 2, outcome: r('other attempt') },
        { id: 'j', attempt: 1, outcome: r('other id') },
      ]),
    ).toEqual([
      { id: 'i', attempt: 1, outcome: r('first') },
      { id: 'i', attempt: 2, outcome: r('other attempt') },
      { id: 'j', attempt: 1, outcome: r('other id') },
    ])
  })

  it('workflow data ids are sub-documents (no separator to collide on); runner contexts are keyed by runner', () => {
    expect(workflowDataId('wf:1', 'k')).toEqual({ w: 'wf:1', k: 'k' })
    expect(workflowDataId('wf', '1:k')).not.toEqual(workflowDataId('wf:1', 'k'))
    expect(
      runnerContextDoc({
        runnerId: 'r',
        runnerClass: 'ThreadRunner',
        parentRunnerId: null,
        pid: 9,
        hostname: 'h',
        startedAt: 1,
      }),
    ).toEqual({
      _id: 'r',
      runnerClass: 'ThreadRunner',
      parentRunnerId: null,
      pid: 9,
      hostname: 'h',
      startedAt: 1,
    })
  })
})

describe('trigger store queries', () => {
  it('a task’s triggers are one document, replaced as a whole', () => {
    const t = { id: 't1', taskId: 'app.a', conditionIds: ['c1'], logic: 'and' as const, spec: '{}' }
    expect(setTaskTriggersUpdate('app.a', [t], 5)).toEqual({
      filter: { _id: 'app.a' },
      update: { $set: { triggers: [t] }, $setOnInsert: { at: 5 } },
    })
    expect(triggersFilter('c1')).toEqual({ 'triggers.conditionIds': 'c1' })
    expect(triggersFilter()).toEqual({})
  })

  it('valid conditions keep their first values; cron compares the expected last run', () => {
    expect(validConditionUpserts([{ id: 'v', conditionId: 'c', context: '{}' }], 3)).toEqual([
      {
        updateOne: {
          filter: { _id: 'v' },
          update: { $setOnInsert: { conditionId: 'c', context: '{}', at: 3 } },
          upsert: true,
        },
      },
    ])
    expect(cronCasFilter('c', 100)).toEqual({ _id: 'c', last: 100 })
  })

  it('a trigger-run claim matches only an expired claim, so a live one makes the upsert collide', () => {
    expect(triggerRunClaim('run', 1000, 500)).toEqual({
      filter: { _id: 'run', until: { $lte: 1000 } },
      update: { $set: { until: 1500, expiresAt: new Date(1500) } },
    })
  })
})
