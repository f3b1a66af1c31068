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
 * key, reroute), $9 initial status. Inserts in request order with ON CONFLICT DO NOTHING: the
 * primary key refuses a known id, the unique partial index a registration key already held by
 * a REGISTERED invocation (stored, or earlier in the batch). Per request it reports whether it
 * was created, whether its id exists, and the key's holder; the rare request resolved by none
 * (a concurrent insert not yet visible to this snapshot) is asked again by the caller.
 */
export const registerSql = (s: string) => `
WITH req AS (
  SELECT r.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[])
    WITH ORDINALITY AS r(id, task_id, call_id, actor, reg_key, run_key, reroute, ord)
),
now AS (SELECT ${s}.now_ms() AS ms),
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
  SELECT $1, n.id, $9, NULL, f.actor, n.status_ts
  FROM ins n JOIN (SELECT DISTINCT ON (q.id) q.id, q.actor FROM req q ORDER BY q.id, q.ord) f ON f.id = n.id
)
SELECT r.ord, r.id,
  (n.id IS NOT NULL AND r.ord = (SELECT min(q.ord) FROM req q WHERE q.id = r.id)) AS created,
  (n.id IS NOT NULL OR EXISTS (SELECT 1 FROM ${s}.invocations x WHERE x.app_id = $1 AND x.id = r.id)) AS id_exists,
  coalesce(
    (SELECT n2.id FROM ins n2 WHERE n2.registration_key = r.reg_key LIMIT 1),
    (SELECT x.id FROM ${s}.invocations x
      WHERE x.app_id = $1 AND x.registration_key = r.reg_key AND x.status = $9 LIMIT 1)
  ) AS holder
FROM req r LEFT JOIN ins n ON n.id = r.id
ORDER BY r.ord`

/**
 * transition: $1 app, $2 ids, $3 targets, $4 actors, $5/$6 rule keys/modes, $7 final statuses,
 * $8 channel. Ids must be distinct (the caller splits repeats into rounds). Locks the rows in id
 * order (concurrent batches cannot deadlock), then a compare-and-set UPDATE writes each accepted
 * transition with its history row; RETRY increments retries; final ones release edges and are
 * NOTIFYed. Rejected and unknown ids come back with their current record and write nothing.
 */
export const transitionSql = (s: string) => `
WITH req AS (
  SELECT r.id, r.to_status, r.actor, r.ord
  FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(id, to_status, actor, ord)
),
locked AS (
  SELECT i.id, i.task_id, i.status, i.owner, i.status_ts, i.retries
  FROM ${s}.invocations i WHERE i.app_id = $1 AND i.id = ANY($2::text[])
  ORDER BY i.id FOR UPDATE
),
dec AS (
  SELECT r.ord, r.id, r.to_status, r.actor, l.task_id, l.status, l.owner, l.status_ts, l.retries,
    ($6::text[])[array_position($5::text[],
      r.to_status || CASE WHEN r.actor IS NULL OR r.actor = '' THEN '|-|' ELSE '|+|' END || l.status || '|' ||
      CASE WHEN l.owner IS NULL THEN 'n' WHEN l.owner = r.actor THEN 'a' ELSE 'o' END)] AS mode
  FROM req r JOIN locked l ON l.id = r.id
),
upd AS (
  UPDATE ${s}.invocations i
  SET status = d.to_status,
      owner = CASE d.mode WHEN 'n' THEN NULL WHEN 'a' THEN d.actor ELSE i.owner END,
      status_ts = ${s}.now_ms(),
      retries = i.retries + CASE WHEN d.to_status = 'retry' THEN 1 ELSE 0 END
  FROM dec d
  WHERE i.app_id = $1 AND i.id = d.id AND d.mode IS NOT NULL AND i.status = d.status
  RETURNING d.ord, i.id, i.task_id, i.status, i.owner, i.status_ts, i.retries, d.actor
),
hist AS (
  INSERT INTO ${s}.history (app_id, id, status, owner, actor, ts)
  SELECT $1, u.id, u.status, u.owner, u.actor, u.status_ts FROM upd u
),
fin AS (SELECT u.id FROM upd u WHERE u.status = ANY($7::text[])),
${releaseAndNotify(s, '$1', '$8')}
SELECT r.ord, (u.id IS NOT NULL) AS ok, (d.id IS NOT NULL) AS found,
  coalesce(u.task_id, d.task_id) AS task_id,
  coalesce(u.status, d.status) AS status,
  CASE WHEN u.id IS NOT NULL THEN u.owner ELSE d.owner END AS owner,
  coalesce(u.status_ts, d.status_ts) AS ts,
  coalesce(u.retries, d.retries) AS retries
FROM req r
LEFT JOIN upd u ON u.ord = r.ord
LEFT JOIN dec d ON d.ord = r.ord
CROSS JOIN ntf
ORDER BY r.ord`

/** claim: one call of the claim function (migration 1); $1..$10 as its parameters. */
export const claimSql = (s: string) =>
  `SELECT o_ord AS ord, o_id AS id, o_outcome AS outcome, o_task_id AS task_id, o_status AS status,
          o_owner AS owner, o_ts AS ts, o_retries AS retries
   FROM ${s}.claim($1, $2::text[], $3, $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9, $10)`

/**
 * getBlockingInvocations: $1 app, $2 available statuses, $3 final statuses, $4 max. Waited ids
 * that are available for run and wait on nothing unfinished, most waiters first, then oldest.
 */
export const blockingSql = (s: string) => `
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
LIMIT $4`

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
