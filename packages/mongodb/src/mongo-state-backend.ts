import {
  type InvocationPage,
  type InvocationRecord,
  latestProgress,
  type Outcome,
  type OutcomeRef,
  type ProgressRecord,
  type RecordPageQuery,
  type RunnerContextRecord,
  type StateBackend,
} from '@nenc/core'
import { type Collection, MongoBulkWriteError } from 'mongodb'
import { MongoComponent } from './component-base.js'
import { corrupt, isStr } from './documents.js'
import { type IndexPlan, stateBackendIndexes } from './indexes.js'
import type { CollectionNames } from './names.js'
import { outcomesOfFilter, pageOfDocs, recordPageFind } from './queries/listing.js'
import {
  decodeOutcome,
  decodeRecord,
  decodeRunnerContext,
  firstPerAttempt,
  type OutcomeDoc,
  outcomeId,
  outcomeKey,
  outcomeRefOf,
  outcomeUpserts,
  type RecordDoc,
  type RunnerContextDoc,
  recordFinishedStamps,
  recordUpserts,
  runnerContextDoc,
  type WorkflowDataDoc,
  workflowDataId,
} from './queries/state.js'
import { DUPLICATE_KEY, guard, writeErrorsOf } from './translate-error.js'

/** One invocation's latest progress (`_id` = invocation id); `reportedAt` drives the TTL index. */
interface ProgressDoc {
  _id: string
  attempt: number
  updatedAt: number
  value: string
  reportedAt: Date
}

/**
 * Invocation records (one document per invocation, retired by the TTL index once an outcome is
 * stored), outcomes (one document per (invocation, attempt), written once), workflow data and
 * runner contexts and progress. Batches are one `bulkWrite` (per collection) or one `find`.
 */
export class MongoStateBackend extends MongoComponent implements StateBackend {
  protected indexPlan(names: CollectionNames): IndexPlan {
    return stateBackendIndexes(names, this.options.retentionSeconds)
  }

  protected ownCollections(names: CollectionNames): string[] {
    return [names.records, names.outcomes, names.workflowData, names.runnerContexts, names.progress]
  }

  private get records(): Collection<RecordDoc> {
    return this.collection<RecordDoc>(this.names.records)
  }

  private where(id: string): string {
    return `${this.names.records}/${id}`
  }

  async upsertInvocations(records: readonly InvocationRecord[]): Promise<void> {
    if (records.length === 0) return
    const last = new Map(records.map((r) => [r.id, r]))
    await guard('storing invocation records', () =>
      this.records.bulkWrite(recordUpserts([...last.values()]), { ordered: false }),
    )
  }

  private async byId(ids: readonly string[]): Promise<Map<string, RecordDoc>> {
    const docs = await this.records.find({ _id: { $in: [...new Set(ids)] } }).toArray()
    return new Map(docs.map((d) => [String(d._id), d]))
  }

  async getInvocations(ids: readonly string[]): Promise<(InvocationRecord | null)[]> {
    if (ids.length === 0) return []
    return guard('reading invocation records', async () => {
      const found = await this.byId(ids)
      return ids.map((id) => {
        const d = found.get(id)
        return d ? decodeRecord(d, this.where(id)) : null
      })
    })
  }

  async getChildInvocations(parentId: string): Promise<string[]> {
    return guard('reading child invocations', async () => {
      const docs = await this.records
        .find({ parentId }, { projection: { _id: 1 } })
        .sort({ createdAt: 1, _id: 1 })
        .toArray()
      return docs.map((d) => String(d._id))
    })
  }

  async listInvocationRecords(query: RecordPageQuery): Promise<InvocationPage> {
    const find = recordPageFind(query)
    return guard('listing invocation records', async () => {
      const docs = await this.records
        .find(find.filter, { projection: { _id: 1, createdAt: 1 } })
        .sort(find.sort)
        .limit(find.limit)
        .toArray()
      return pageOfDocs(docs, find)
    })
  }

  /** Records (a child's leaving is its removal from its parent's children), all their outcomes and their progress. */
  async deleteInvocations(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    await guard('deleting invocation records', async () => {
      await this.records.deleteMany({ _id: { $in: [...new Set(ids)] } })
      await this.outcomes.deleteMany(outcomesOfFilter(ids) as never)
      await this.progressDocs.deleteMany({ _id: { $in: [...new Set(ids)] } })
    })
  }

  private get outcomes(): Collection<OutcomeDoc> {
    return this.collection<OutcomeDoc>(this.names.outcomes)
  }

  /**
   * Write-once per (id, attempt): each item is an upsert that sets the outcome only on insert.
   * Two writers inserting the same attempt at once collide on `_id`; the loser's duplicate-key
   * error means the attempt already has its outcome, which is what write-once keeps.
   */
  async setOutcomes(items: readonly (OutcomeRef & { outcome: Outcome })[]): Promise<void> {
    if (items.length === 0) return
    const first = firstPerAttempt(items)
    await guard('storing invocation outcomes', () =>
      Promise.all([
        this.outcomes.bulkWrite(outcomeUpserts(first), { ordered: false }).catch((err: unknown) => {
          const errors = err instanceof MongoBulkWriteError ? writeErrorsOf(err) : []
          if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err
        }),
        this.records.bulkWrite(recordFinishedStamps(first.map((it) => it.id)), { ordered: false }),
      ]),
    )
  }

  async getOutcomes(refs: readonly OutcomeRef[]): Promise<(Outcome | null)[]> {
    if (refs.length === 0) return []
    return guard('reading invocation outcomes', async () => {
      const docs = await this.outcomes.find({ _id: { $in: firstPerAttempt(refs).map(outcomeId) } }).toArray()
      const found = new Map<string, OutcomeDoc>()
      for (const d of docs) {
        const ref = outcomeRefOf(d)
        if (ref) found.set(outcomeKey(ref), d)
      }
      return refs.map((r) => {
        const d = found.get(outcomeKey(r))
        return d ? decodeOutcome(d, `${this.names.outcomes}/${r.id}/${r.attempt}`) : null
      })
    })
  }

  private get workflowData(): Collection<WorkflowDataDoc> {
    return this.collection<WorkflowDataDoc>(this.names.workflowData)
  }

  async getWorkflowData(workflowId: string, key: string): Promise<string | null> {
    return guard('reading workflow data', async () => {
      const doc = await this.workflowData.findOne({ _id: workflowDataId(workflowId, key) })
      if (!doc) return null
      if (!isStr(doc.v))
        throw corrupt(`${this.names.workflowData}/${workflowId}/${key}`, 'value is not a string')
      return doc.v
    })
  }

  async setWorkflowData(workflowId: string, key: string, value: string): Promise<void> {
    await guard('storing workflow data', () =>
      this.workflowData.updateOne(
        { _id: workflowDataId(workflowId, key) },
        { $set: { v: value } },
        { upsert: true },
      ),
    )
  }

  private get runnerContexts(): Collection<RunnerContextDoc> {
    return this.collection<RunnerContextDoc>(this.names.runnerContexts)
  }

  async storeRunnerContext(ctx: RunnerContextRecord): Promise<void> {
    const doc = runnerContextDoc(ctx)
    await guard('storing a runner context', () =>
      this.runnerContexts.replaceOne({ _id: doc._id }, doc, { upsert: true }),
    )
  }

  async getRunnerContext(runnerId: string): Promise<RunnerContextRecord | null> {
    return guard('reading a runner context', async () => {
      const doc = await this.runnerContexts.findOne({ _id: runnerId })
      return doc ? decodeRunnerContext(doc, `${this.names.runnerContexts}/${runnerId}`) : null
    })
  }

  /** One invocation's latest progress (`_id` = invocation id); `reportedAt` drives the TTL index. */
  private get progressDocs(): Collection<ProgressDoc> {
    return this.collection<ProgressDoc>(this.names.progress)
  }

  /**
   * One unordered bulk write of conditional upserts: a document of a higher attempt does not
   * match the filter, so the upsert's insert fails on its `_id` and the stored one is kept. No
   * push: core re-reads for `onProgress` every `orchestrator.progressPollMs`.
   */
  async setProgress(items: readonly ProgressRecord[]): Promise<void> {
    if (items.length === 0) return
    await guard('storing invocation progress', () =>
      this.progressDocs
        .bulkWrite(
          latestProgress(items).map((it) => ({
            updateOne: {
              filter: { _id: it.id, attempt: { $lte: it.attempt } },
              update: {
                $set: {
                  attempt: it.attempt,
                  updatedAt: it.updatedAt,
                  value: it.value,
                  reportedAt: new Date(),
                },
              },
              upsert: true,
            },
          })),
          { ordered: false },
        )
        .catch((err: unknown) => {
          const errors = err instanceof MongoBulkWriteError ? writeErrorsOf(err) : []
          if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err
        }),
    )
  }

  async getProgress(ids: readonly string[]): Promise<(ProgressRecord | null)[]> {
    if (ids.length === 0) return []
    return guard('reading invocation progress', async () => {
      const docs = await this.progressDocs.find({ _id: { $in: [...new Set(ids)] } }).toArray()
      const byId = new Map(docs.map((d) => [d._id, d]))
      return ids.map((id) => {
        const d = byId.get(id)
        if (!d) return null
        if (typeof d.attempt !== 'number' || typeof d.updatedAt !== 'number' || typeof d.value !== 'string')
          throw corrupt(`${this.names.progress}/${id}`, 'it is not an invocation progress')
        return { id, attempt: d.attempt, updatedAt: d.updatedAt, value: d.value }
      })
    })
  }

  async purge(): Promise<void> {
    await guard('purging the state backend', () =>
      Promise.all([
        this.records.deleteMany({}),
        this.outcomes.deleteMany({}),
        this.workflowData.deleteMany({}),
        this.runnerContexts.deleteMany({}),
        this.progressDocs.deleteMany({}),
      ]),
    )
  }
}
