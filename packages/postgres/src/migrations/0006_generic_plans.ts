/**
 * Migration 6: the claim functions always use generic plans. PostgreSQL's plan cache kept
 * choosing custom plans for their statements — planning them on every call, about 1 ms, more
 * than a claim of a few ids takes to run (a claim of one id: 1.8 → 1.0 ms). Their plans do not
 * depend on the values: rows are reached id by id through the primary key, and the running-key
 * check is an index condition since migration 3.
 */
export const version = 6
export const name = 'generic_plans'

const CLAIM_ARGS = 'text, text[], text, text[], text[], text[], text[], text[], text, text, text, boolean'

export function up(s: string): string[] {
  return [
    `ALTER FUNCTION ${s}.claim(${CLAIM_ARGS}) SET plan_cache_mode = force_generic_plan`,
    `ALTER FUNCTION ${s}.claim_next(text, integer, ${CLAIM_ARGS.slice('text, text[], '.length)}) SET plan_cache_mode = force_generic_plan`,
  ]
}
