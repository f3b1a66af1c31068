import type { Component } from './component.js'

/**
 * Large serialized values stored once by content hash, so big arguments are not copied into
 * every invocation record. Keys are derived by core (sha256 of the serialized value).
 */
export interface ClientDataStore extends Component {
  /** Stores each value under its key. Idempotent: same key, same value. */
  store(items: readonly { key: string; value: string }[]): Promise<void>
  /** Values in input order; null where a key is unknown. */
  retrieve(keys: readonly string[]): Promise<(string | null)[]>
  purge(): Promise<void>
}
