import type { ClientDataStore } from '@nenc/core'
import type { Collection } from 'mongodb'
import { MongoComponent } from './component-base.js'
import type { IndexPlan } from './indexes.js'
import type { CollectionNames } from './names.js'
import { assembleValue, type ClientDataDoc, chunkIdsOf, clientDataWrites } from './queries/client-data.js'
import { guard } from './translate-error.js'

/**
 * Large serialized values by content hash. A value over 15 MiB (MongoDB documents stop at
 * 16 MiB) is split into chunk documents written before the document that points at them.
 * Reading a batch is one query, plus one for the chunks of large values.
 */
export class MongoClientDataStore extends MongoComponent implements ClientDataStore {
  protected indexPlan(): IndexPlan {
    return {}
  }

  protected ownCollections(names: CollectionNames): string[] {
    return [names.clientData]
  }

  private get values(): Collection<ClientDataDoc> {
    return this.collection<ClientDataDoc>(this.names.clientData)
  }

  async store(items: readonly { key: string; value: string }[]): Promise<void> {
    if (items.length === 0) return
    // Ordered, so chunks land before their head document.
    await guard('storing client data', () =>
      this.values.bulkWrite(clientDataWrites(items), { ordered: true }),
    )
  }

  async retrieve(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    return guard('reading client data', async () => {
      const where = (key: string) => `${this.names.clientData}/${key}`
      const heads = new Map<string, ClientDataDoc>()
      for (const d of await this.values.find({ _id: { $in: [...new Set(keys)] } }).toArray())
        heads.set(d._id, d)
      const chunkIds = [...heads.values()].flatMap((d) => chunkIdsOf(d, where(d._id)))
      const chunks = new Map<string, ClientDataDoc>()
      if (chunkIds.length) {
        for (const d of await this.values.find({ _id: { $in: chunkIds } }).toArray()) chunks.set(d._id, d)
      }
      return keys.map((key) => {
        const head = heads.get(key)
        return head ? assembleValue(head, chunks, where(key)) : null
      })
    })
  }

  async purge(): Promise<void> {
    await guard('purging client data', () => this.values.deleteMany({}))
  }
}
