import type { RunnerHeartbeat } from '@nenc/core'
import type { AnyBulkWriteOperation, Document } from 'mongodb'
import { corrupt, isNum, isStr } from '../documents.js'

/** One runner's heartbeat (`<prefix>runners`). */
export interface RunnerDoc {
  _id: string
  createdAt: number
  lastHeartbeat: number
  canRunAtomicService: boolean
  /** Date of the last heartbeat, for the TTL index that forgets long-dead runners. */
  seenAt: Date
}

/** One upsert per runner: the first heartbeat sets `createdAt`, every one moves `lastHeartbeat`. */
export function heartbeatUpserts(
  runnerIds: readonly string[],
  canRunAtomicService: boolean,
  now: number,
): AnyBulkWriteOperation<RunnerDoc>[] {
  return [...new Set(runnerIds)].map((id) => ({
    updateOne: {
      filter: { _id: id },
      update: {
        $set: { lastHeartbeat: now, canRunAtomicService, seenAt: new Date(now) },
        $setOnInsert: { createdAt: now },
      },
      upsert: true,
    },
  }))
}

/** Runners that beat since `since`, ordered by first heartbeat (atomic-service slot order). */
export function activeRunnersQuery(since: number): { filter: Document; sort: Document } {
  return { filter: { lastHeartbeat: { $gte: since } }, sort: { createdAt: 1, _id: 1 } }
}

export function decodeRunner(doc: unknown, location: string): RunnerHeartbeat {
  const d = doc as Partial<RunnerDoc> | null
  if (
    !d ||
    !isStr(d._id) ||
    !isNum(d.createdAt) ||
    !isNum(d.lastHeartbeat) ||
    typeof d.canRunAtomicService !== 'boolean'
  ) {
    throw corrupt(location, 'not a runner heartbeat {createdAt, lastHeartbeat, canRunAtomicService}')
  }
  return {
    runnerId: d._id,
    createdAt: d.createdAt,
    lastHeartbeat: d.lastHeartbeat,
    canRunAtomicService: d.canRunAtomicService,
  }
}
