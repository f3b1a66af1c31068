import type { ClientDataStore } from '@nenc/core'
import { RedisComponent } from './redis-component.js'

/** Large serialized arguments by content key: one MSET to store a batch, one MGET to read one. */
export class RedisClientDataStore extends RedisComponent implements ClientDataStore {
  protected readonly component = 'clientDataStore' as const

  async store(items: readonly { key: string; value: string }[]): Promise<void> {
    if (items.length === 0) return
    const pairs: string[] = []
    for (const it of items) pairs.push(this.keys.of('clientData', it.key), it.value)
    await this.conn.command('clientDataStore.store', (c) => c.mset(pairs))
  }

  async retrieve(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    const redisKeys = keys.map((k) => this.keys.of('clientData', k))
    return this.conn.command('clientDataStore.retrieve', (c) => c.mget(redisKeys))
  }
}
