import * as init from './0001_init.js'
import * as claimRecords from './0002_claim_records.js'
import * as cachedPlans from './0003_cached_plans.js'
import * as claimNext from './0004_claim_next.js'
import * as fillfactor from './0005_invocations_fillfactor.js'
import * as genericPlans from './0006_generic_plans.js'

/** One numbered migration: `up(schema)` returns the statements, run in one transaction. */
export interface Migration {
  version: number
  name: string
  up(quotedSchema: string): string[]
}

/** Every migration this version knows, in order. Append only; never edit a shipped one. */
export const MIGRATIONS: readonly Migration[] = [
  init,
  claimRecords,
  cachedPlans,
  claimNext,
  fillfactor,
  genericPlans,
]

export const LATEST_MIGRATION = MIGRATIONS[MIGRATIONS.length - 1]!.version
