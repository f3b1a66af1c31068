import * as init from './0001_init.js'

/** One numbered migration: `up(schema)` returns the statements, run in one transaction. */
export interface Migration {
  version: number
  name: string
  up(quotedSchema: string): string[]
}

/** Every migration this version knows, in order. Append only; never edit a shipped one. */
export const MIGRATIONS: readonly Migration[] = [init]

export const LATEST_MIGRATION = MIGRATIONS[MIGRATIONS.length - 1]!.version
