import {
  type Broker,
  type BrokerCapabilities,
  CoalescingNotifier,
  type RouteOptions,
  type Unsubscribe,
} from '@nenc/core'
import type { Collection, Document } from 'mongodb'
import { MongoComponent } from './component-base.js'
import type { WakeTransport } from './connection.js'
import { brokerIndexes, type IndexPlan } from './indexes.js'
import type { CollectionNames } from './names.js'
import {
  dueFilter,
  futureFilter,
  QUEUE_FEED_PIPELINE,
  QUEUE_ORDER,
  type QueueDoc,
  queueDocs,
} from './queries/broker.js'
import { guard } from './translate-error.js'
import { WakeSource } from './wakeups/wake-source.js'

/** Candidate rounds of one `retrieve()`: a later round only runs when other consumers took candidates. */
const RETRIEVE_ROUNDS = 3
/** setTimeout's largest delay; a later due time is re-armed when this one fires. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * The queue as a collection of `{ inv, availableAt }` entries. Routing is one `insertMany`;
 * a delay is a later `availableAt`, so delayed ids are as durable as the rest. Retrieval deletes
 * each entry with its own `findOneAndDelete`, so no entry is ever handed to two consumers.
 */
export class MongoBroker extends MongoComponent implements Broker {
  private readonly local = new CoalescingNotifier<void>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private transport: WakeTransport | null = null
  private source: WakeSource | null = null
  private sourceStarting: Promise<void> | null = null
  private due: { at: number; timer: NodeJS.Timeout } | null = null

  get capabilities(): BrokerCapabilities {
    return { pushedWakeUps: this.transport === 'change-streams' }
  }

  protected indexPlan(names: CollectionNames): IndexPlan {
    return brokerIndexes(names)
  }

  protected ownCollections(names: CollectionNames): string[] {
    return [names.queue]
  }

  protected override async onInit(): Promise<void> {
    this.transport = await this.connection.wakeTransport(this.db)
  }

  private get queue(): Collection<QueueDoc> {
    return this.collection<QueueDoc>(this.names.queue)
  }

  async route(ids: readonly string[], options?: RouteOptions): Promise<void> {
    if (ids.length === 0) return
    const delayMs = Math.max(0, options?.delayMs ?? 0)
    await guard('routing invocations', () =>
      this.queue.insertMany(queueDocs(ids, Date.now(), delayMs), { ordered: true }),
    )
    if (delayMs === 0) return this.local.emit([undefined])
    // Subscribers in this process learn of the due time exactly; others through their feed.
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.local.emit([undefined])
    }, delayMs)
    timer.unref()
    this.timers.add(timer)
  }

  async retrieve(max: number): Promise<string[]> {
    if (max <= 0) return []
    return guard('retrieving invocations', async () => {
      const queue = this.queue
      if (max === 1) {
        const doc = await queue.findOneAndDelete(dueFilter(Date.now()), {
          sort: QUEUE_ORDER,
          projection: { inv: 1 },
        })
        return doc ? [doc.inv] : []
      }
      // One read of the oldest due entries, then one point delete per entry, all at once: a
      // delete that finds nothing means another consumer took that entry first.
      const out: string[] = []
      for (let round = 0; round < RETRIEVE_ROUNDS && out.length < max; round++) {
        const candidates = await queue
          .find(dueFilter(Date.now()), { sort: QUEUE_ORDER, limit: max - out.length, projection: { _id: 1 } })
          .toArray()
        if (candidates.length === 0) break
        const taken = await Promise.all(
          candidates.map((c) => queue.findOneAndDelete({ _id: c._id }, { projection: { inv: 1 } })),
        )
        let lost = false
        for (const doc of taken) {
          if (doc) out.push(doc.inv)
          else lost = true
        }
        if (!lost) break
      }
      return out
    })
  }

  async count(): Promise<number> {
    return guard('counting queued invocations', () => this.queue.countDocuments(dueFilter(Date.now())))
  }

  async subscribe(listener: () => void): Promise<Unsubscribe> {
    const remove = this.local.add(() => listener())
    try {
      await this.ensureSource()
    } catch (err) {
      remove()
      throw err
    }
    return async () => {
      remove()
      if (this.local.size === 0) await this.stopSource()
    }
  }

  private ensureSource(): Promise<void> {
    this.sourceStarting ??= (async () => {
      const queue = this.queue
      const source = new WakeSource(this.db, this.connection, {
        collection: queue,
        pipeline: QUEUE_FEED_PIPELINE,
        onChange: (event: Document) => {
          const at = event.fullDocument?.availableAt
          if (typeof at === 'number' && at > Date.now()) this.armDue(at)
          else this.local.emit([undefined])
        },
        poll: async () => {
          const hit = await queue.findOne(dueFilter(Date.now()), { projection: { _id: 1 } })
          if (hit) this.local.emit([undefined])
          return hit !== null
        },
      })
      const transport = await guard('subscribing to routed invocations', () => source.start())
      this.source = source
      // A change stream reports inserts, not due times: entries delayed before now need a timer.
      if (transport === 'change-streams') await this.armNextDue()
    })().catch((err) => {
      this.sourceStarting = null
      throw err
    })
    return this.sourceStarting
  }

  private async armNextDue(): Promise<void> {
    const next = await guard('reading delayed invocations', () =>
      this.queue.findOne(futureFilter(Date.now()), { sort: QUEUE_ORDER, projection: { availableAt: 1 } }),
    )
    if (next) this.armDue(next.availableAt)
  }

  /** Keeps one timer for the earliest known due time of a delayed entry. */
  private armDue(at: number): void {
    if (this.due && this.due.at <= at) return
    if (this.due) clearTimeout(this.due.timer)
    const timer = setTimeout(
      () => {
        this.due = null
        this.local.emit([undefined])
        if (this.source) this.armNextDue().catch(() => {})
      },
      Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS),
    )
    timer.unref()
    this.due = { at, timer }
  }

  private async stopSource(): Promise<void> {
    const starting = this.sourceStarting
    this.sourceStarting = null
    await starting?.catch(() => {})
    const source = this.source
    this.source = null
    if (this.due) clearTimeout(this.due.timer)
    this.due = null
    await source?.stop()
  }

  async purge(): Promise<void> {
    await guard('purging the queue', () => this.queue.deleteMany({}))
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  protected override async onClose(): Promise<void> {
    await this.stopSource()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.transport = null
  }
}
