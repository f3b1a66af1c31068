import { isFinal, isStatus, type RunnerHeartbeat } from '@nenc/core'
import { type Collection, MongoBulkWriteError } from 'mongodb'
import type { InvocationDoc } from './documents.js'
import type { CollectionNames } from './names.js'
import {
  blockingPipeline,
  edgeUpserts,
  MARK_BLOCKING,
  releaseEdgesFilter,
  type WaitDoc,
} from './queries/blocking.js'
import { pendingForRecoveryFilter, runningForRecoveryFilter } from './queries/invocations.js'
import { activeRunnersQuery, decodeRunner, heartbeatUpserts, type RunnerDoc } from './queries/runners.js'
import { DUPLICATE_KEY, writeErrorsOf } from './translate-error.js'

/** The orchestrator's collections, for the coordination helpers below. */
export interface Collections {
  invocations: Collection<InvocationDoc>
  waits: Collection<WaitDoc>
  runners: Collection<RunnerDoc>
  names: CollectionNames
}

/** Runs a bulk of upserts; concurrent upserts of one new key can collide once, and are retried once. */
async function upsertBulk<T extends object>(
  coll: Collection<T>,
  ops: Parameters<Collection<T>['bulkWrite']>[0],
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await coll.bulkWrite(ops, { ordered: false })
      return
    } catch (err) {
      const onlyDuplicates =
        err instanceof MongoBulkWriteError &&
        writeErrorsOf(err).length > 0 &&
        writeErrorsOf(err).every((e) => e.code === DUPLICATE_KEY)
      if (!onlyDuplicates || attempt >= 1) throw err
    }
  }
}

/**
 * Blocking control: `waiterId` waits for each of `waitedIds`. The edges are upserted and the
 * documents of both ends marked ({@link MARK_BLOCKING}) at once; then their statuses are read,
 * and edges to a waited invocation that is unknown or already final are removed again (all of
 * them when the waiter itself is final). Whatever the
 * interleaving with a concurrent final transition, either that transition sees the mark and
 * releases the edges, or this read sees the final status.
 */
export async function addWaiting(
  c: Collections,
  waiterId: string,
  waitedIds: readonly string[],
): Promise<void> {
  const waited = [...new Set(waitedIds)]
  const ends = [...new Set([waiterId, ...waited])]
  await Promise.all([
    upsertBulk(c.waits, edgeUpserts(waiterId, waited, Date.now())),
    c.invocations.updateMany({ _id: { $in: ends } }, MARK_BLOCKING),
  ])
  const docs = await c.invocations.find({ _id: { $in: ends } }, { projection: { status: 1 } }).toArray()
  const statusOf = new Map(docs.map((d) => [String(d._id), d.status]))
  // Like memory: an edge to an unknown or final invocation is not kept; the waiter is not checked
  // for existence, only released when it is already final.
  const over = (id: string) => {
    const s = statusOf.get(id)
    return !isStatus(s) || isFinal(s)
  }
  const waiterStatus = statusOf.get(waiterId)
  if (isStatus(waiterStatus) && isFinal(waiterStatus)) {
    await c.waits.deleteMany(releaseEdgesFilter([waiterId]))
    return
  }
  const gone = waited.filter(over)
  if (gone.length) await c.waits.deleteMany({ waiter: waiterId, waited: { $in: gone } })
}

/** Removes every edge in which a now-final invocation is the waiter or the waited. */
export async function releaseEdges(c: Collections, ids: readonly string[]): Promise<void> {
  await c.waits.deleteMany(releaseEdgesFilter(ids))
}

export async function getBlockingInvocations(c: Collections, max: number): Promise<string[]> {
  const rows = await c.waits.aggregate<{ _id: unknown }>(blockingPipeline(c.names, max)).toArray()
  return rows.map((r) => String(r._id))
}

export async function heartbeat(
  c: Collections,
  runnerIds: readonly string[],
  canRunAtomicService: boolean,
): Promise<void> {
  await upsertBulk(c.runners, heartbeatUpserts(runnerIds, canRunAtomicService, Date.now()))
}

export async function getActiveRunners(c: Collections, timeoutMs: number): Promise<RunnerHeartbeat[]> {
  const q = activeRunnersQuery(Date.now() - timeoutMs)
  const docs = await c.runners.find(q.filter).sort(q.sort).toArray()
  return docs.map((d) => decodeRunner(d, `${c.names.runners}/${String(d._id)}`))
}

export async function getPendingForRecovery(
  c: Collections,
  olderThanMs: number,
  limit: number,
): Promise<string[]> {
  const docs = await c.invocations
    .find(pendingForRecoveryFilter(Date.now() - olderThanMs), { projection: { _id: 1 } })
    .limit(limit)
    .toArray()
  return docs.map((d) => String(d._id))
}

/**
 * Two indexed reads instead of a join: the runners alive within `deadAfterMs` (few), then the
 * owned statuses whose owner is not among them (an owner that never beat counts as dead).
 */
export async function getRunningForRecovery(
  c: Collections,
  deadAfterMs: number,
  limit: number,
): Promise<string[]> {
  const live = await c.runners
    .find({ lastHeartbeat: { $gte: Date.now() - deadAfterMs } }, { projection: { _id: 1 } })
    .toArray()
  const docs = await c.invocations
    .find(runningForRecoveryFilter(live.map((r) => r._id)), { projection: { _id: 1 } })
    .limit(limit)
    .toArray()
  return docs.map((d) => String(d._id))
}
