import { INITIAL_STATUS } from '@nenc/core'
import { asyncCommit } from './identifiers.js'

/** An SQL string literal (for core's status names, which are plain identifiers). */
const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`

/**
 * The orchestrator's statements for schema `s`. Each method call is one of these, run once per
 * batch: arrays travel as `unnest($n::text[])` parameters, status sets and transition rules as
 * arrays computed from core's table (see status-rules.ts).
 */

/** Releases blocking edges of the ids in CTE `fin` and NOTIFYs them in ≤ 8000-byte chunks. */
const releaseAndNotify = (s: string, app: string, channel: string) => `
  rel AS (
    DELETE FROM ${s}.waits w
    WHERE w.app_id = ${app}
      AND (w.waited_id = ANY(ARRAY(SELECT f.id FROM fin f)) OR w.waiter_id = ANY(ARRAY(SELECT f.id FROM fin f)))
  ),
  ntf AS (
    SELECT count(pg_notify(${channel}, g.payload)) AS n FROM (
      SELECT json_agg(x.id)::text AS payload FROM (
        SELECT f.id, (sum(length(f.id) + 3) OVER (ORDER BY f.id)) / 6000 AS grp FROM fin f
      ) x GROUP BY x.grp
    ) g
  )`

/**
 * register: $1 app, $2..$8 parallel arrays (id, task, call, actor, registration key, running
 * key, reroute), $9 initial status, $10 intermediate commit mode. The initial status is also a
 * literal in the holder lookup, so any plan can use the unique partial index on it. Inserts in request order with
 * ON CONFLICT DO NOTHING: the primary key refuses a known id, the unique partial index a
 * registration key already held by a REGISTERED invocation (stored, or earlier in the batch).
 * Per request it reports whether it was created, whether its id exists, and the key's holder;
 * the rare request resolved by none (a concurrent insert not yet visible to this snapshot) is
 * asked again by the caller.
 */
export const registerSql = (s: string) => `
WITH req AS (
  SELECT r.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[])
    WITH ORDINALITY AS r(id, task_id, call_id, actor, reg_key, run_key, reroute, ord)
),
firsts AS (SELECT DISTINCT ON (q.id) q.id, q.ord, q.actor FROM req q ORDER BY q.id, q.ord),
now AS (SELECT ${s}.now_ms() AS ms, ${asyncCommit('$10')} AS sc),
ins AS (
  INSERT INTO ${s}.invocations AS i
    (app_id, id, task_id, call_id, status, owner, status_ts, retries, registration_key, running_key, reroute, created_at)
  SELECT $1, r.id, r.task_id, r.call_id, $9, NULL, now.ms, 0, r.reg_key, r.run_key, r.reroute, now.ms
  FROM req r CROSS JOIN now ORDER BY r.ord
  ON CONFLICT DO NOTHING
  RETURNING i.id, i.registration_key, i.status_ts
),
hist AS (
  INSERT INTO ${s}.history (app_id, id, status, owner, actor, ts)
  SELECT $1, n.id, $9, NULL, f.actor, n.status_ts FROM ins n JOIN firsts f ON f.id = n.id
)
SELECT r.ord,
  (n.id IS NOT NULL AND f.ord = r.ord) AS created,
  (n.id IS NOT NULL OR x.id IS NOT NULL) AS id_exists,
  coalesce(nk.id, hk.id) AS holder
FROM req r
JOIN firsts f ON f.id = r.id
LEFT JOIN ins n ON n.id = r.id
LEFT JOIN LATERAL (SELECT x.id FROM ${s}.invocations x WHERE x.app_id = $1 AND x.id = r.id) x ON true
LEFT JOIN ins nk ON nk.registration_key = r.reg_key
LEFT JOIN ${s}.invocations hk ON hk.app_id = $1 AND hk.registration_key = r.reg_key
  AND hk.registration_key IS NOT NULL AND hk.status = ${literal(INITIAL_STATUS)}
ORDER BY r.ord`

/** The owner mode (n/a/k) the rules give target row `x` for request `c`, or NULL if refused. */
const ruleMode = (x: string) =>
  `($6::text[])[array_position($5::text[],
     c.to_status || CASE WHEN c.actor IS NULL OR c.actor = '' THEN '|-|' ELSE '|+|' END || ${x}.status || '|' ||
     CASE WHEN ${x}.owner IS NULL THEN 'n' WHEN ${x}.owner = c.actor THEN 'a' ELSE 'o' END)]`

/**
 * transition: $1 app, $2 ids, $3 targets, $4 actors, $5/$6 rule keys/modes, $7 final statuses,
 * $8 channel, $9 commit mode (null when a target is final: the caller relies on those),
 * $10..$12 outcomes staged by the state backend (ids, kinds, values; written in the same
 * statement, see component-link.ts). Ids must be distinct (the caller splits repeats into rounds).
 *
 * Reads each row through the primary key (LATERAL, in id order: no plan can scan the app's
 * backlog, and concurrent batches lock rows in the same order), then one UPDATE is the
 * compare-and-set: its WHERE applies the rules to the row it writes, so a row changed
 * concurrently is re-checked against its newest version. Each accepted transition gets its
 * history row; RETRY increments retries; final ones release edges and are NOTIFYed. Refused and
 * unknown ids come back with the record as read and write nothing (if that read was older than
 * the refusal, core's check accepts it and the caller asks again).
 */
export const transitionSql = (s: string) => `
WITH req AS (
  SELECT r.id, r.to_status, r.actor, r.ord
  FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(id, to_status, actor, ord)
),
cur AS (
  SELECT q.ord, q.id, q.to_status, q.actor, l.*, ${asyncCommit('$9')} AS sc
  FROM (SELECT * FROM req ORDER BY id) q
  CROSS JOIN LATERAL (
    SELECT i.ctid AS tid, i.task_id, i.status, i.owner, i.status_ts, i.retries
    FROM ${s}.invocations i WHERE i.app_id = $1 AND i.id = q.id) l
),
upd AS (
  UPDATE ${s}.invocations i
  SET status = c.to_status,
      owner = CASE ${ruleMode('i')} WHEN 'n' THEN NULL WHEN 'a' THEN c.actor ELSE i.owner END,
      status_ts = ${s}.now_ms(),
      retries = i.retries + CASE WHEN c.to_status = 'retry' THEN 1 ELSE 0 END
  FROM cur c
  WHERE i.ctid = c.tid AND i.id = c.id AND ${ruleMode('i')} IS NOT NULL
  RETURNING c.ord, i.id, i.task_id, i.status, i.owner, i.status_ts, i.retries, c.actor
),
hist AS (
  INSERT INTO ${s}.history (app_id, id, status, owner, actor, ts)
  SELECT $1, u.id, u.status, u.owner, u.actor, u.status_ts FROM upd u
),
outs AS (
  INSERT INTO ${s}.outcomes (app_id, id, kind, value)
  SELECT $1, o.* FROM unnest($10::text[], $11::text[], $12::text[]) AS o
  ON CONFLICT (app_id, id) DO UPDATE SET kind = EXCLUDED.kind, value = EXCLUDED.value
),
fin AS (SELECT u.id FROM upd u WHERE u.status = ANY($7::text[])),
${releaseAndNotify(s, '$1', '$8')}
SELECT r.ord, (u.id IS NOT NULL) AS ok, (c.id IS NOT NULL) AS found,
  coalesce(u.task_id, c.task_id) AS task_id,
  coalesce(u.status, c.status) AS status,
  CASE WHEN u.id IS NOT NULL THEN u.owner ELSE c.owner END AS owner,
  coalesce(u.status_ts, c.status_ts) AS ts,
  coalesce(u.retries, c.retries) AS retries
FROM req r
LEFT JOIN upd u ON u.ord = r.ord
LEFT JOIN cur c ON c.ord = r.ord
CROSS JOIN ntf
ORDER BY r.ord`

/** claim: one call of the claim function (migration 2); $1..$12 as its parameters. */
export const claimSql = (s: string) =>
  `SELECT o_ord AS ord, o_id AS id, o_outcome AS outcome, o_task_id AS task_id, o_status AS status,
          o_owner AS owner, o_ts AS ts, o_retries AS retries,
          o_task_name AS task_name, o_call_id AS call_id, o_args AS args, o_parent_id AS parent_id,
          o_workflow_id AS workflow_id, o_workflow_type AS workflow_type,
          o_parent_workflow_id AS parent_workflow_id, o_created_at AS created_at
   FROM ${s}.claim($1, $2::text[], $3, $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9, $10, $11, $12)`

/** claim_next (migration 4): pops up to $2 due ids and claims them; $1, $3..$12 as claim's. */
export const claimNextSql = (s: string) =>
  `SELECT o_ord AS ord, o_id AS id, o_outcome AS outcome, o_task_id AS task_id, o_status AS status,
          o_owner AS owner, o_ts AS ts, o_retries AS retries,
          o_task_name AS task_name, o_call_id AS call_id, o_args AS args, o_parent_id AS parent_id,
          o_workflow_id AS workflow_id, o_workflow_type AS workflow_type,
          o_parent_workflow_id AS parent_workflow_id, o_created_at AS created_at
   FROM ${s}.claim_next($1, $2, $3, $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9, $10, $11, $12)`

/**
 * getBlockingInvocations: $1 app, $2 available statuses, $3 final statuses, $4 max. Waited ids
 * that are available for run and wait on nothing unfinished, most waiters first, then oldest;
 * and whether the app has any edge at all (see waits-tracker.ts).
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
 * invocations with their history, edges, state-backend record and outcome, oldest first;
 * rows another purger holds are skipped.
 */
export const purgeFinishedSql = (s: string) => `
WITH victims AS (
  SELECT i.id FROM ${s}.invocations i
  WHERE i.app_id = $1 AND i.status = ANY($2::text[]) AND i.status_ts < (SELECT ${s}.now_ms()) - $3
  ORDER BY i.status_ts LIMIT $4
  FOR UPDATE SKIP LOCKED
),
dh AS (DELETE FROM ${s}.history h WHERE h.app_id = $1 AND h.id IN (SELECT v.id FROM victims v)),
dw AS (DELETE FROM ${s}.waits w WHERE w.app_id = $1
        AND (w.waiter_id IN (SELECT v.id FROM victims v) OR w.waited_id IN (SELECT v.id FROM victims v))),
dr AS (DELETE FROM ${s}.invocation_records r WHERE r.app_id = $1 AND r.id IN (SELECT v.id FROM victims v)),
dout AS (DELETE FROM ${s}.outcomes o WHERE o.app_id = $1 AND o.id IN (SELECT v.id FROM victims v)),
di AS (DELETE FROM ${s}.invocations i WHERE i.app_id = $1 AND i.id IN (SELECT v.id FROM victims v) RETURNING 1)
SELECT count(*)::int AS n FROM di`
