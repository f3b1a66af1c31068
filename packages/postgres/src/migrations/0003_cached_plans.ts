import { claimFunction } from './0002_claim_records.js'

/**
 * Migration 3: plans the claim function may keep. Migration 2's function was re-planned on
 * every call (`force_custom_plan`, so that the running-key check could use a partial index on
 * active statuses) — about 1.5 ms per claim, more than claiming ten ids takes. The running-key
 * index now holds the status as a column instead of in its predicate, so the check
 * `running_key = k AND status = ANY(active)` is an index condition in any plan, and the function
 * (same body) keeps its plans.
 *
 * `CREATE INDEX` locks the invocations table while it builds (seconds for millions of rows).
 */
export const version = 3
export const name = 'cached_plans'

export function up(s: string): string[] {
  return [
    `CREATE INDEX invocations_running_key_status_idx ON ${s}.invocations (app_id, running_key, status)
       WHERE running_key IS NOT NULL`,
    `DROP INDEX ${s}.invocations_running_key_idx`,
    `DROP FUNCTION ${s}.claim(text, text[], text, text[], text[], text[], text[], text[], text, text, text, boolean)`,
    claimFunction(s, { forceCustomPlans: false }),
  ]
}
