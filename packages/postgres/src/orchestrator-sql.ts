/**
 * The orchestrator's statements for schema `s`. Each method call is one of these, run once per
 * batch: arrays travel as `unnest($n::text[])` parameters, status sets and transition rules as
 * arrays computed from core's table (see status-rules.ts). The batch statements are calls of
 * migration 1's functions, which plan generically with JIT off whatever the pool's settings
 * (a user's pool has the server's defaults, under which a large batch paid ~80 ms of JIT).
 */

/**
 * register / route: one call of the register or route function (see migrations/route-functions.ts);
 * $1..$10 (register) or $1..$22 (route) as its parameters.
 */
export const registerSql = (s: string, fused = false) =>
  `SELECT o_ord AS ord, o_created AS created, o_id_exists AS id_exists, o_holder AS holder
   FROM ${s}.${fused ? 'route' : 'register'}($1, $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
     $8::boolean[], $9, $10${
       fused
         ? `, $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
     $18::text[], $19::text[], $20::bigint[], $21::text[], $22`
         : ''
     })`

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

/** readFinal: one call of the read_final function; $1 app, $2 ids, $3 final statuses. */
export const readFinalSql = (s: string) =>
  `SELECT o_id AS id, o_task_id AS task_id, o_status AS status, o_owner AS owner, o_ts AS ts,
          o_retries AS retries, o_attempt AS attempt, o_kind AS kind, o_value AS value
   FROM ${s}.read_final($1, $2::text[], $3::text[])`

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
