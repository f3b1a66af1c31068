/**
 * The caller's batch statements of migration 1 as functions: register (the component's), route
 * (register fused with the records' upsert and the queue insert) and read_final. As functions
 * they plan generically with JIT off whatever the session's settings: a pool the user passes in
 * has the server's defaults, under which a 1,000-invocation route was JIT-compiled (~80 ms) on
 * every call. The bodies refer to the parameters by position ($n), as the statements did.
 */
import { INITIAL_STATUS } from '@nenc/core'
import { historyEntrySql } from '../history-entry.js'
import { asyncCommit } from '../identifiers.js'

/** An SQL string literal (for core's status names, which are plain identifiers). */
const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`

/**
 * Settings these functions plan and run with; migration 1's runner functions add
 * `enable_seqscan = off` (see 0001_init.ts).
 */
export const FUNCTION_SETTINGS = `SET plan_cache_mode = force_generic_plan
    SET jit = off`

/**
 * register: $1 app, $2..$8 parallel arrays (id, task, call, actor, registration key, running
 * key, reroute), $9 initial status, $10 commit mode. The initial status is also a literal in the
 * holder lookup, so any plan can use the unique partial index on it. Inserts in request order
 * with ON CONFLICT DO NOTHING: the primary key refuses a known id, the unique partial index a
 * registration key already held by a REGISTERED invocation (stored, or earlier in the batch).
 * Per request it reports whether it was created, whether its id exists, and the key's holder;
 * the rare request resolved by none (a concurrent insert not yet visible to this snapshot) is
 * asked again by the caller. A new invocation starts at attempt 0.
 *
 * `fused` (the fused `route` step) also upserts the records ($11..$21: id, task, task name, call,
 * args, parent, workflow id/type/parent, created at, trace context) and queues every request not
 * reused (created or already known, in request order), NOTIFYing channel $22 — one statement, so a registered id
 * is never left unqueued.
 */
const registerBody = (s: string, fused: boolean) => `
WITH req AS (
  SELECT r.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[])
    WITH ORDINALITY AS r(id, task_id, call_id, actor, reg_key, run_key, reroute, ord)
),
firsts AS (SELECT DISTINCT ON (q.id) q.id, q.ord, q.actor FROM req q ORDER BY q.id, q.ord),
now AS (SELECT ${s}.now_ms() AS ms, ${asyncCommit('$10')} AS sc),${
  fused
    ? `
recs AS (
  INSERT INTO ${s}.invocation_records AS t
    (app_id, id, task_id, task_name, call_id, args, parent_id, workflow_id, workflow_type,
     parent_workflow_id, created_at, trace_context)
  SELECT $1, x.* FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                            $17::text[], $18::text[], $19::text[], $20::bigint[], $21::text[]) AS x
  ON CONFLICT (app_id, id) DO UPDATE SET
    task_id = EXCLUDED.task_id, task_name = EXCLUDED.task_name, call_id = EXCLUDED.call_id,
    args = EXCLUDED.args, parent_id = EXCLUDED.parent_id, workflow_id = EXCLUDED.workflow_id,
    workflow_type = EXCLUDED.workflow_type, parent_workflow_id = EXCLUDED.parent_workflow_id,
    created_at = EXCLUDED.created_at, trace_context = EXCLUDED.trace_context
),`
    : ''
}
ins AS (
  INSERT INTO ${s}.invocations AS i
    (app_id, id, task_id, call_id, status, owner, status_ts, retries, registration_key, running_key, reroute,
     created_at, attempt, reg_status, history)
  SELECT $1, r.id, r.task_id, r.call_id, $9, NULL, now.ms, 0, r.reg_key, r.run_key, r.reroute, now.ms, 0,
    CASE WHEN r.reg_key IS NOT NULL THEN $9::text END,
    ${historyEntrySql('$9', '0', 'now.ms', 'r.actor', 'NULL::text', 'NULL::text')}
  FROM req r CROSS JOIN now ORDER BY r.ord
  ON CONFLICT DO NOTHING
  RETURNING i.id, i.registration_key, i.status_ts
),
res AS (
  SELECT r.ord,
    (n.id IS NOT NULL AND f.ord = r.ord) AS created,
    (n.id IS NOT NULL OR x.id IS NOT NULL) AS id_exists,
    coalesce(nk.id, hk.id) AS holder,
    r.id
  FROM req r
  JOIN firsts f ON f.id = r.id
  LEFT JOIN ins n ON n.id = r.id
  -- Probed only when needed: an id this statement created exists; a request without a
  -- registration key has no holder.
  LEFT JOIN LATERAL (SELECT x.id FROM ${s}.invocations x
                     WHERE n.id IS NULL AND x.app_id = $1 AND x.id = r.id OFFSET 0) x ON true
  LEFT JOIN ins nk ON nk.registration_key = r.reg_key
  LEFT JOIN LATERAL (
    SELECT hk.id FROM ${s}.invocations hk WHERE r.reg_key IS NOT NULL AND hk.app_id = $1 AND hk.registration_key = r.reg_key
      AND hk.registration_key IS NOT NULL AND hk.reg_status = ${literal(INITIAL_STATUS)} OFFSET 0) hk ON true
)${
  fused
    ? `,
queued AS (
  INSERT INTO ${s}.queue (app_id, available_at, id)
  SELECT $1, now.ms, x.id FROM res x CROSS JOIN now WHERE x.created OR x.id_exists ORDER BY x.ord
  RETURNING 1
),
qntf AS (SELECT count(pg_notify($22, '')) AS n FROM (SELECT 1 FROM queued LIMIT 1) q)
SELECT res.ord, res.created, res.id_exists, res.holder FROM res CROSS JOIN qntf ORDER BY res.ord`
    : `
SELECT res.ord, res.created, res.id_exists, res.holder FROM res ORDER BY res.ord`
}`

const REGISTER_PARAMS = 'text, text[], text[], text[], text[], text[], text[], boolean[], text, text'
const ROUTE_RECORD_PARAMS =
  'text[], text[], text[], text[], text[], text[], text[], text[], text[], bigint[], text[], text'

/** register($1..$10) and route($1..$22): one row per request, in request order. */
export function registerFunctions(s: string): string[] {
  return [false, true].map(
    (fused) => `CREATE FUNCTION ${s}.${fused ? 'route' : 'register'}(
      ${REGISTER_PARAMS}${fused ? `, ${ROUTE_RECORD_PARAMS}` : ''})
    RETURNS TABLE (o_ord bigint, o_created boolean, o_id_exists boolean, o_holder text)
    LANGUAGE plpgsql
    ${FUNCTION_SETTINGS}
    AS $fn$
    BEGIN
      RETURN QUERY ${registerBody(s, fused)};
    END
    $fn$`,
  )
}

/**
 * readFinal: $1 app, $2 ids, $3 final statuses. Each id's state and, when final, its outcome:
 * the one in its row (written by the fused finish), else the one stored under its attempt in
 * `outcomes`, through the primary keys.
 */
export function readFinalFunction(s: string): string {
  return `CREATE FUNCTION ${s}.read_final(p_app text, p_ids text[], p_final text[])
    RETURNS TABLE (o_id text, o_task_id text, o_status text, o_owner text, o_ts bigint,
                   o_retries integer, o_attempt integer, o_kind text, o_value text)
    LANGUAGE plpgsql
    ${FUNCTION_SETTINGS}
    AS $fn$
    BEGIN
      RETURN QUERY
SELECT i.id, i.task_id, i.status, i.owner, i.status_ts AS ts, i.retries, i.attempt,
  coalesce(i.final_kind, o.kind), CASE WHEN i.final_kind IS NOT NULL THEN i.final_value ELSE o.value END
FROM unnest(p_ids) AS x(id)
CROSS JOIN LATERAL (SELECT * FROM ${s}.invocations i WHERE i.app_id = p_app AND i.id = x.id OFFSET 0) i
LEFT JOIN LATERAL (
  SELECT o.kind, o.value FROM ${s}.outcomes o
  WHERE i.status = ANY(p_final) AND i.final_kind IS NULL
    AND o.app_id = p_app AND o.id = i.id AND o.attempt = i.attempt OFFSET 0) o ON true;
    END
    $fn$`
}
