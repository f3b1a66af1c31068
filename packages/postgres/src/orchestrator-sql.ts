import { INITIAL_STATUS } from '@nenc/core'
import { historyEntrySql } from './history-entry.js'
import { asyncCommit } from './identifiers.js'

/** An SQL string literal (for core's status names, which are plain identifiers). */
const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`

/**
 * The orchestrator's statements for schema `s`. Each method call is one of these, run once per
 * batch: arrays travel as `unnest($n::text[])` parameters, status sets and transition rules as
 * arrays computed from core's table (see status-rules.ts).
 */

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
export const registerSql = (s: string, fused = false) => `
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

/**
 * transition: one call of the transition function (migration 1); $1..$17 as its parameters.
 * The component's `transition()` passes no outcomes and no delays. A row with `released` is not
 * a request's: it names an id the transition at `ord` released from its running key.
 */
export const transitionSql = (s: string) =>
  `SELECT o_ord AS ord, o_ok AS ok, o_found AS found, o_task_id AS task_id, o_status AS status,
          o_owner AS owner, o_ts AS ts, o_retries AS retries, o_attempt AS attempt, o_released AS released
   FROM ${s}.transition($1, $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[],
                        $8::integer[], $9::text[], $10::text[], $11::text[], $12::text[], $13, $14, $15,
                        $16, $17)`

const CLAIM_COLUMNS = `o_ord AS ord, o_id AS id, o_outcome AS outcome, o_task_id AS task_id, o_status AS status,
          o_owner AS owner, o_ts AS ts, o_retries AS retries, o_attempt AS attempt,
          o_task_name AS task_name, o_call_id AS call_id, o_args AS args, o_parent_id AS parent_id,
          o_workflow_id AS workflow_id, o_workflow_type AS workflow_type,
          o_parent_workflow_id AS parent_workflow_id, o_created_at AS created_at,
          o_trace_context AS trace_context`

/** claim: one call of the claim function; $1..$13 as its parameters. */
export const claimSql = (s: string) =>
  `SELECT ${CLAIM_COLUMNS}
   FROM ${s}.claim($1, $2::text[], $3, $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9, $10, $11, $12,
                   $13)`

/** claim_next: pops up to $2 due ids and claims them (starts them with $13); $1, $3..$13 as claim's. */
export const claimNextSql = (s: string) =>
  `SELECT ${CLAIM_COLUMNS}
   FROM ${s}.claim_next($1, $2, $3, $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9, $10, $11,
                        $12, $13)`

/** finish: one call of the finish function; $1..$19 as its parameters. */
export const finishSql = (s: string) =>
  `SELECT o_step AS step, o_ok AS ok, o_found AS found, ${CLAIM_COLUMNS}
   FROM ${s}.finish($1, $2, $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::integer[],
                    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14, $15, $16, $17, $18, $19)`

/**
 * readFinal: $1 app, $2 ids, $3 final statuses. Each id's state and, when final, the outcome
 * stored under its attempt, through the primary keys.
 */
export const readFinalSql = (s: string) => `
SELECT i.id, i.task_id, i.status, i.owner, i.status_ts AS ts, i.retries, i.attempt, o.kind, o.value
FROM unnest($2::text[]) AS x(id)
CROSS JOIN LATERAL (SELECT * FROM ${s}.invocations i WHERE i.app_id = $1 AND i.id = x.id OFFSET 0) i
LEFT JOIN LATERAL (
  SELECT o.kind, o.value FROM ${s}.outcomes o
  WHERE i.status = ANY($3::text[]) AND o.app_id = $1 AND o.id = i.id AND o.attempt = i.attempt OFFSET 0) o ON true`

/**
 * getBlockingInvocations: $1 app, $2 available statuses, $3 final statuses, $4 max. Waited ids
 * that are available for run and wait on nothing unfinished, most waiters first, then oldest;
 * and whether the app has any edge at all (see core's WaitsTracker).
 */
export const blockingSql = (s: string) => `
WITH b AS (
SELECT w.waited_id AS id
FROM ${s}.waits w
JOIN ${s}.invocations d ON d.app_id = w.app_id AND d.id = w.waited_id AND d.status = ANY($2::text[])
WHERE w.app_id = $1
  AND NOT EXISTS (
    SELECT 1 FROM ${s}.waits x
    JOIN ${s}.invocations xi ON xi.app_id = x.app_id AND xi.id = x.waited_id AND NOT (xi.status = ANY($3::text[]))
    WHERE x.app_id = $1 AND x.waiter_id = w.waited_id)
GROUP BY w.waited_id
ORDER BY count(*) DESC, min(d.created_at), w.waited_id
LIMIT $4
)
SELECT ARRAY(SELECT b.id FROM b) AS ids, EXISTS (SELECT 1 FROM ${s}.waits x WHERE x.app_id = $1) AS any_edge`

/**
 * purgeFinishedBefore: $1 app, $2 final statuses, $3 age in ms, $4 batch size. Deletes finished
 * invocations (their history is in the row) with their edges, state-backend record and outcomes (every attempt), oldest first;
 * rows another purger holds are skipped.
 */
export const purgeFinishedSql = (s: string) => `
WITH victims AS (
  SELECT i.id FROM ${s}.invocations i
  WHERE i.app_id = $1 AND i.status = ANY($2::text[]) AND i.status_ts < (SELECT ${s}.now_ms()) - $3
  ORDER BY i.created_at LIMIT $4
  FOR UPDATE SKIP LOCKED
),
dw AS (DELETE FROM ${s}.waits w WHERE w.app_id = $1
        AND (w.waiter_id IN (SELECT v.id FROM victims v) OR w.waited_id IN (SELECT v.id FROM victims v))),
dr AS (DELETE FROM ${s}.invocation_records r WHERE r.app_id = $1 AND r.id IN (SELECT v.id FROM victims v)),
dout AS (DELETE FROM ${s}.outcomes o WHERE o.app_id = $1 AND o.id IN (SELECT v.id FROM victims v)),
dprog AS (DELETE FROM ${s}.progress p WHERE p.app_id = $1 AND p.id IN (SELECT v.id FROM victims v)),
di AS (DELETE FROM ${s}.invocations i WHERE i.app_id = $1 AND i.id IN (SELECT v.id FROM victims v) RETURNING 1)
SELECT count(*)::int AS n FROM di`
