import type { ClientDataStore } from '@nenc/core'
import { asyncCommit } from './identifiers.js'
import { PostgresComponent } from './postgres-component.js'

/**
 * Large serialized arguments by content hash. A key's value never changes (the key is its
 * hash), so a repeated store is `ON CONFLICT DO NOTHING` and never rewrites a large value.
 */
export class PostgresClientDataStore extends PostgresComponent implements ClientDataStore {
  async store(items: readonly { key: string; value: string }[]): Promise<void> {
    if (items.length === 0) return
    const byKey = new Map(items.map((i) => [i.key, i.value]))
    await this.query(
      `INSERT INTO ${this.s}.client_data (app_id, key, value)
       SELECT $1, x.* FROM unnest($2::text[], $3::text[]) AS x
       CROSS JOIN (SELECT ${asyncCommit('$4')}) sc
       ON CONFLICT (app_id, key) DO NOTHING`,
      // Stored before the invocations that reference it; their route() flushes it.
      [this.appId, [...byKey.keys()], [...byKey.values()], this.connection.intermediateCommit],
      'store client data',
    )
  }

  async retrieve(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return []
    const rows = await this.query<{ key: string; value: string }>(
      `SELECT d.key, d.value FROM unnest($2::text[]) AS x(key)
       CROSS JOIN LATERAL (SELECT * FROM ${this.s}.client_data d WHERE d.app_id = $1 AND d.key = x.key OFFSET 0) d`,
      [this.appId, keys],
      'retrieve client data',
    )
    const byKey = new Map(rows.map((r) => [r.key, r.value]))
    return keys.map((k) => byKey.get(k) ?? null)
  }

  async purge(): Promise<void> {
    await this.query(`DELETE FROM ${this.s}.client_data WHERE app_id = $1`, [this.appId], 'purge client data')
  }
}
