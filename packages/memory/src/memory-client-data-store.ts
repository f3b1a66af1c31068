import type { ClientDataStore } from '@nenc/core'
import { MemoryComponent } from './component-base.js'

/** Large serialized values by content hash. */
export class MemoryClientDataStore extends MemoryComponent implements ClientDataStore {
  private readonly values = new Map<string, string>()

  async store(items: readonly { key: string; value: string }[]): Promise<void> {
    for (const it of items) this.values.set(it.key, it.value)
  }

  async retrieve(keys: readonly string[]): Promise<(string | null)[]> {
    return keys.map((k) => this.values.get(k) ?? null)
  }

  async purge(): Promise<void> {
    this.values.clear()
  }
}
