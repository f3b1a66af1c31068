import { describe, expect, it } from 'vitest'
import {
  brokerIndexes,
  MAX_TTL_SECONDS,
  orchestratorIndexes,
  stateBackendIndexes,
  triggerStoreIndexes,
  ttlSeconds,
} from '../src/indexes.js'
import { appPrefix, collectionNames } from '../src/names.js'

const names = collectionNames(appPrefix('nenc', 'app'))

describe('index specifications', () => {
  it('orchestrator: the two concurrency guards are partial unique indexes', () => {
    const inv = orchestratorIndexes(names, 3600)[names.invocations]!
    expect(inv.find((i) => i.name === 'nenc_registration_key')).toEqual({
      name: 'nenc_registration_key',
      key: { registrationKey: 1 },
      unique: true,
      partialFilterExpression: { status: 'registered', registrationKey: { $type: 'string' } },
    })
    expect(inv.find((i) => i.name === 'nenc_running_key')).toEqual({
      name: 'nenc_running_key',
      key: { activeKey: 1 },
      unique: true,
      partialFilterExpression: { activeKey: { $type: 'string' } },
    })
  })

  it('orchestrator: every query has an index, finished invocations expire after the retention', () => {
    const plan = orchestratorIndexes(names, 3600)
    const keys = (coll: string) => plan[coll]!.map((i) => i.key)
    expect(keys(names.invocations)).toEqual([
      { registrationKey: 1 },
      { activeKey: 1 },
      { runningKey: 1, parked: 1, _id: 1 }, // the parked list of a running key, oldest first
      { status: 1, ts: 1 }, // recovery (PENDING older than …) and owned statuses
      { taskId: 1, createdAt: -1, _id: -1 }, // listInvocations by task
      { status: 1, createdAt: -1, _id: -1 }, // listInvocations by status
      { createdAt: -1, _id: -1 }, // listInvocations
      { finishedAt: 1 }, // TTL and the polling final-status feed
    ])
    expect(plan[names.invocations]!.at(-1)).toMatchObject({
      name: 'nenc_finished_ttl',
      expireAfterSeconds: 3600,
    })
    expect(plan[names.waits]).toEqual([
      { name: 'nenc_edge', key: { waiter: 1, waited: 1 }, unique: true },
      { name: 'nenc_waited', key: { waited: 1 } },
    ])
    expect(plan[names.runners]).toEqual([
      { name: 'nenc_last_heartbeat', key: { lastHeartbeat: 1 } },
      { name: 'nenc_seen_ttl', key: { seenAt: 1 }, expireAfterSeconds: 3600 },
    ])
  })

  it('no retention means the largest TTL MongoDB accepts (so a later retention is a collMod away)', () => {
    expect(ttlSeconds(null)).toBe(MAX_TTL_SECONDS)
    expect(ttlSeconds(60)).toBe(60)
    expect(orchestratorIndexes(names, null)[names.invocations]!.at(-1)!.expireAfterSeconds).toBe(
      2_147_483_647,
    )
  })

  it('broker, state backend and trigger store', () => {
    expect(brokerIndexes(names)).toEqual({
      nenc_app_queue: [{ name: 'nenc_due', key: { availableAt: 1, _id: 1 } }],
    })
    expect(stateBackendIndexes(names, 60)).toEqual({
      nenc_app_records: [
        { name: 'nenc_parent', key: { parentId: 1, createdAt: 1, _id: 1 } },
        { name: 'nenc_workflow_created', key: { 'workflow.id': 1, createdAt: -1, _id: -1 } },
        { name: 'nenc_finished_ttl', key: { finishedAt: 1 }, expireAfterSeconds: 60 },
      ],
      nenc_app_outcomes: [{ name: 'nenc_finished_ttl', key: { finishedAt: 1 }, expireAfterSeconds: 60 }],
      nenc_app_progress: [{ name: 'nenc_updated_ttl', key: { reportedAt: 1 }, expireAfterSeconds: 60 }],
    })
    expect(triggerStoreIndexes(names)).toEqual({
      nenc_app_triggers: [{ name: 'nenc_condition', key: { 'triggers.conditionIds': 1 } }],
      nenc_app_valid_conditions: [{ name: 'nenc_order', key: { at: 1, _id: 1 } }],
      nenc_app_trigger_runs: [{ name: 'nenc_expires_ttl', key: { expiresAt: 1 }, expireAfterSeconds: 0 }],
      nenc_app_events: [
        { name: 'nenc_time', key: { emittedAt: -1, _id: -1 } },
        { name: 'nenc_code_time', key: { code: 1, emittedAt: -1, _id: -1 } },
      ],
    })
  })

  it('index names are unique per collection', () => {
    const plans = [
      orchestratorIndexes(names, 1),
      brokerIndexes(names),
      stateBackendIndexes(names, 1),
      triggerStoreIndexes(names),
    ]
    for (const plan of plans) {
      for (const specs of Object.values(plan)) {
        const n = specs.map((s) => s.name)
        expect(new Set(n).size).toBe(n.length)
      }
    }
  })
})
