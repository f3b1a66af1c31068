import type { EventCursor, ListEventsQuery, StoredEvent, TriggerDefinition, TriggerStore } from '@nenc/core'
import { type Collection, MongoServerError } from 'mongodb'
import { MongoComponent } from './component-base.js'
import { corrupt, isNum } from './documents.js'
import { type IndexPlan, triggerStoreIndexes } from './indexes.js'
import type { CollectionNames } from './names.js'
import {
  decodeEvent,
  type EventDoc,
  eventDoc,
  eventListing,
  eventsAfter,
  expiredEvents,
} from './queries/events.js'
import {
  type CronDoc,
  cronCasFilter,
  decodeTriggers,
  decodeValidCondition,
  setTaskTriggersUpdate,
  type TriggerRunDoc,
  type TriggersDoc,
  triggerRunClaim,
  triggersFilter,
  type ValidConditionDoc,
  validConditionUpserts,
} from './queries/triggers.js'
import { DUPLICATE_KEY, guard } from './translate-error.js'

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === DUPLICATE_KEY

/**
 * Trigger definitions (one document per task, so replacing a task's triggers is atomic), valid
 * conditions, the cron compare-and-set and trigger-run claims (set-if-absent with expiry, by
 * unique `_id`) and emitted events (trimmed to the retention when one is added).
 */
export class MongoTriggerStore extends MongoComponent implements TriggerStore {
  protected indexPlan(names: CollectionNames): IndexPlan {
    return triggerStoreIndexes(names)
  }

  protected ownCollections(names: CollectionNames): string[] {
    return [names.triggers, names.validConditions, names.cron, names.triggerRuns, names.events]
  }

  private get triggers(): Collection<TriggersDoc> {
    return this.collection<TriggersDoc>(this.names.triggers)
  }
  private get valid(): Collection<ValidConditionDoc> {
    return this.collection<ValidConditionDoc>(this.names.validConditions)
  }
  private get cron(): Collection<CronDoc> {
    return this.collection<CronDoc>(this.names.cron)
  }
  private get events(): Collection<EventDoc> {
    return this.collection<EventDoc>(this.names.events)
  }
  private get runs(): Collection<TriggerRunDoc> {
    return this.collection<TriggerRunDoc>(this.names.triggerRuns)
  }

  async setTaskTriggers(taskId: string, triggers: readonly TriggerDefinition[]): Promise<void> {
    const { filter, update } = setTaskTriggersUpdate(taskId, triggers, Date.now())
    await guard('storing task triggers', () => this.triggers.updateOne(filter, update, { upsert: true }))
  }

  async getTriggers(conditionId?: string): Promise<TriggerDefinition[]> {
    return guard('reading triggers', async () => {
      const docs = await this.triggers.find(triggersFilter(conditionId)).sort({ at: 1, _id: 1 }).toArray()
      const all = docs.flatMap((d) => decodeTriggers(d, `${this.names.triggers}/${d._id}`))
      return conditionId === undefined ? all : all.filter((t) => t.conditionIds.includes(conditionId))
    })
  }

  async addValidConditions(
    items: readonly { id: string; conditionId: string; context: string }[],
  ): Promise<void> {
    if (items.length === 0) return
    await guard('storing valid conditions', async () => {
      try {
        await this.valid.bulkWrite(validConditionUpserts(items, Date.now()), { ordered: false })
      } catch (err) {
        // Two writers upserting one new pair: the loser's pair exists, which is all it wanted.
        const errors = (err as { writeErrors?: unknown }).writeErrors
        const list = Array.isArray(errors) ? errors : errors ? [errors] : []
        if (list.length === 0 || !list.every((e: { code?: number }) => e.code === DUPLICATE_KEY)) throw err
      }
    })
  }

  async getValidConditions(): Promise<{ id: string; conditionId: string; context: string }[]> {
    return guard('reading valid conditions', async () => {
      const docs = await this.valid.find({}).sort({ at: 1, _id: 1 }).toArray()
      return docs.map((d) => decodeValidCondition(d, `${this.names.validConditions}/${String(d._id)}`))
    })
  }

  async clearValidConditions(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    await guard('clearing valid conditions', () => this.valid.deleteMany({ _id: { $in: [...ids] } }))
  }

  async getLastCronExecution(conditionId: string): Promise<number | null> {
    return guard('reading the last cron execution', async () => {
      const doc = await this.cron.findOne({ _id: conditionId })
      if (!doc) return null
      if (!isNum(doc.last)) throw corrupt(`${this.names.cron}/${conditionId}`, 'last is not a number')
      return doc.last
    })
  }

  async setLastCronExecution(conditionId: string, expected: number | null, next: number): Promise<boolean> {
    return guard('recording a cron execution', async () => {
      if (expected === null) {
        try {
          await this.cron.insertOne({ _id: conditionId, last: next })
          return true
        } catch (err) {
          if (isDuplicate(err)) return false
          throw err
        }
      }
      const res = await this.cron.updateOne(cronCasFilter(conditionId, expected), { $set: { last: next } })
      return res.matchedCount === 1
    })
  }

  async claimTriggerRun(runId: string, ttlMs: number): Promise<boolean> {
    const { filter, update } = triggerRunClaim(runId, Date.now(), ttlMs)
    return guard('claiming a trigger run', async () => {
      try {
        await this.runs.updateOne(filter, update, { upsert: true })
        return true
      } catch (err) {
        if (isDuplicate(err)) return false
        throw err
      }
    })
  }

  async addEvent(event: StoredEvent, retentionMs: number): Promise<void> {
    await guard('storing an event', async () => {
      await this.events.deleteMany(expiredEvents(event.emittedAt, retentionMs))
      try {
        await this.events.insertOne(eventDoc(event))
      } catch (err) {
        if (!isDuplicate(err)) throw err // the same event stored twice: already there
      }
    })
  }

  async listEvents(query: ListEventsQuery = {}): Promise<StoredEvent[]> {
    const { filter, sort, limit } = eventListing(query)
    if (limit <= 0) return []
    return guard('listing events', async () => {
      const docs = await this.events.find(filter).sort(sort).limit(limit).toArray()
      return docs.map((d) => decodeEvent(d, `${this.names.events}/${d._id}`))
    })
  }

  async listEventsAfter(code: string, after: EventCursor, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return []
    const { filter, sort } = eventsAfter(code, after)
    return guard('listing events after a cursor', async () => {
      const docs = await this.events.find(filter).sort(sort).limit(limit).toArray()
      return docs.map((d) => decodeEvent(d, `${this.names.events}/${d._id}`))
    })
  }

  async purge(): Promise<void> {
    await guard('purging the trigger store', () =>
      Promise.all([
        this.triggers.deleteMany({}),
        this.valid.deleteMany({}),
        this.cron.deleteMany({}),
        this.runs.deleteMany({}),
        this.events.deleteMany({}),
      ]),
    )
  }
}
