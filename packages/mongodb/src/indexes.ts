import { BackendError } from '@nenc/core'
import { type Db, type IndexDescription, MongoServerError } from 'mongodb'
import type { CollectionNames } from './names.js'
import { PARKED_INDEX } from './queries/parking.js'
import { BACKEND } from './translate-error.js'

/** Indexes to create, by collection name. */
export type IndexPlan = Record<string, IndexDescription[]>

/** The largest TTL MongoDB accepts (~68 years): what "keep until purge" means for a TTL index. */
export const MAX_TTL_SECONDS = 2_147_483_647

export const ttlSeconds = (retentionSeconds: number | null): number => retentionSeconds ?? MAX_TTL_SECONDS

/**
 * Orchestrator indexes. The two partial unique indexes are the concurrency guards: at most one
 * REGISTERED invocation per registration key, and at most one invocation holding a running key
 * (`activeKey` is set only while the status is PENDING, RUNNING, PAUSED or RESUMED). The parked
 * index holds the invocations parked on a running key, oldest first. The others serve
 * `listInvocations`, the recovery queries and the polling feed; the TTL index retires finished
 * invocations.
 */
export function orchestratorIndexes(names: CollectionNames, retentionSeconds: number | null): IndexPlan {
  return {
    [names.invocations]: [
      {
        name: 'nenc_registration_key',
        key: { registrationKey: 1 },
        unique: true,
        partialFilterExpression: { status: 'registered', registrationKey: { $type: 'string' } },
      },
      {
        name: 'nenc_running_key',
        key: { activeKey: 1 },
        unique: true,
        partialFilterExpression: { activeKey: { $type: 'string' } },
      },
      { ...PARKED_INDEX },
      { name: 'nenc_status_ts', key: { status: 1, ts: 1 } },
      { name: 'nenc_task_created', key: { taskId: 1, createdAt: -1, _id: -1 } },
      { name: 'nenc_status_created', key: { status: 1, createdAt: -1, _id: -1 } },
      { name: 'nenc_created', key: { createdAt: -1, _id: -1 } },
      { name: 'nenc_finished_ttl', key: { finishedAt: 1 }, expireAfterSeconds: ttlSeconds(retentionSeconds) },
    ],
    [names.waits]: [
      { name: 'nenc_edge', key: { waiter: 1, waited: 1 }, unique: true },
      { name: 'nenc_waited', key: { waited: 1 } },
    ],
    [names.runners]: [
      { name: 'nenc_last_heartbeat', key: { lastHeartbeat: 1 } },
      { name: 'nenc_seen_ttl', key: { seenAt: 1 }, expireAfterSeconds: ttlSeconds(retentionSeconds) },
    ],
  }
}

/** Broker: retrieval scans due entries in queue order. */
export function brokerIndexes(names: CollectionNames): IndexPlan {
  return { [names.queue]: [{ name: 'nenc_due', key: { availableAt: 1, _id: 1 } }] }
}

/**
 * State backend: children by parent (either direction of the index serves both orders), a
 * workflow's records; records with an outcome, and outcomes, expire with their
 * invocation. Outcomes are read by `_id` (id, attempt) only, progress by `_id` (id).
 */
export function stateBackendIndexes(names: CollectionNames, retentionSeconds: number | null): IndexPlan {
  const ttl = ttlSeconds(retentionSeconds)
  return {
    [names.records]: [
      { name: 'nenc_parent', key: { parentId: 1, createdAt: 1, _id: 1 } },
      // listInvocationRecords by workflow, newest first (records are written once, never updated).
      { name: 'nenc_workflow_created', key: { 'workflow.id': 1, createdAt: -1, _id: -1 } },
      { name: 'nenc_finished_ttl', key: { finishedAt: 1 }, expireAfterSeconds: ttl },
    ],
    [names.outcomes]: [{ name: 'nenc_finished_ttl', key: { finishedAt: 1 }, expireAfterSeconds: ttl }],
    // Progress expires the retention period after its last report.
    [names.progress]: [{ name: 'nenc_updated_ttl', key: { reportedAt: 1 }, expireAfterSeconds: ttl }],
  }
}

/** Trigger store: triggers by condition, valid conditions in insertion order, expiring run claims, events by time. */
export function triggerStoreIndexes(names: CollectionNames): IndexPlan {
  return {
    [names.triggers]: [{ name: 'nenc_condition', key: { 'triggers.conditionIds': 1 } }],
    [names.validConditions]: [{ name: 'nenc_order', key: { at: 1, _id: 1 } }],
    [names.triggerRuns]: [{ name: 'nenc_expires_ttl', key: { expiresAt: 1 }, expireAfterSeconds: 0 }],
    [names.events]: [
      { name: 'nenc_time', key: { emittedAt: -1, _id: -1 } },
      { name: 'nenc_code_time', key: { code: 1, emittedAt: -1, _id: -1 } },
    ],
  }
}

const INDEX_OPTIONS_CONFLICT = 85
const INDEX_KEY_SPECS_CONFLICT = 86

/**
 * Creates the indexes of a plan, one `createIndexes` per collection, all collections at once.
 * Idempotent. A TTL index created earlier with another retention is updated in place
 * (`collMod`); any other conflicting index is reported with what to do.
 */
export async function ensureIndexes(db: Db, plan: IndexPlan): Promise<void> {
  await Promise.all(
    Object.entries(plan).map(async ([collection, specs]) => {
      try {
        await db.collection(collection).createIndexes(specs)
      } catch (err) {
        const conflict =
          err instanceof MongoServerError &&
          (err.code === INDEX_OPTIONS_CONFLICT || err.code === INDEX_KEY_SPECS_CONFLICT)
        if (!conflict) throw err
        const ttl = specs.filter((s) => s.expireAfterSeconds !== undefined)
        for (const s of ttl) {
          await db
            .command({
              collMod: collection,
              index: { name: s.name, expireAfterSeconds: s.expireAfterSeconds },
            })
            .catch(() => {})
        }
        try {
          await db.collection(collection).createIndexes(specs)
        } catch (again) {
          throw new BackendError(
            BACKEND,
            `collection "${collection}" has an index that conflicts with the one this version of @nenc/mongodb needs ` +
              `(${(again as Error).message}); drop the index named in the message and restart.`,
            { cause: again },
          )
        }
      }
    }),
  )
}
