/**
 * Migration 1: the whole schema — every table, index and function. `s` is the quoted schema name.
 *
 * Status literals appear only in index predicates (the registration index names the initial
 * status) and where a statement names the one status it is about (`retry` counts retries,
 * `pending` starts an attempt, a claim asked to start moves on to `running`, a blocked claim parks
 * as `concurrency_controlled`): the status sets and transition rules arrive as parameters computed
 * from core's table (status-rules.ts), and `test/migrations.test.ts` checks the index predicate
 * still equals core's `INITIAL_STATUS`.
 *
 * Running concurrency parks instead of polling: a claim that blocks an id on its running key
 * (→ CONCURRENCY_CONTROLLED) gives it the next `parked_seq` value; the ids parked on a key are the
 * rows with that key and a non-null `parked_seq`, oldest first (a partial index). Every status
 * write sets the column (claim: the sequence for a parked id, else null; transition: null), so a
 * parked row is always CONCURRENCY_CONTROLLED and the list holds nothing else, however long it
 * lives. A transition that takes a keyed invocation out of the active statuses, leaving no active
 * holder, clears the oldest parked row's `parked_seq` and reports its id (`release`).
 *
 * The functions (claim, claim_next, transition, release, finish; register, route and read_final in
 * route-functions.ts) always use generic plans, with JIT off (compiling a batch statement costs
 * more than running it, and a user's pool has the server's settings): rows are
 * reached id by id through the primary key, so no plan depends on the values, and re-planning a
 * batch statement costs more than running it on a small batch. A generic plan is made at a
 * connection's first call, often on empty tables, where every access path looks free: per-id
 * lookups are laterals kept apart with OFFSET 0 (never flattened into a join that reads the
 * app's whole range), and the functions plan with enable_seqscan off (a sequential scan of a
 * busy table — the queue's dead rows, the invocations — is never what they mean).
 * test/plans.test.ts checks every scan of these tables names the row it looks for.
 */
import { MAX_INLINE_OUTCOME_CHARS } from '@nenc/core'
import { historyEntrySql } from '../history-entry.js'
import { rowsOfIds } from '../rows-of-ids.js'
import { FUNCTION_SETTINGS, readFinalFunction, registerFunctions } from './route-functions.js'

export const version = 1
export const name = 'init'

/**
 * The longest final outcome the fused finish keeps in the invocation's row; a longer one is an
 * `outcomes` row. Measured at fillfactor 40 (one session, batches of 500, share of the
 * invocation updates that stayed heap-only): with every final outcome in its own row 100 %; in
 * the invocation's row, 96 % at 1 character, 87 % at 100, 79 % at 300, 72 % at 1,000 — a larger
 * outcome leaves its page too little room. At fillfactor 30 (the table's), 100 % up to 100.
 * Most results are small (an id, a number, a flag).
 */
export const FINAL_OUTCOME_IN_ROW_MAX_CHARS = 128

/**
 * Every text column compares byte by byte (`COLLATE "C"`), whatever the database's locale: the
 * order the memory and Redis backends list in. (PostgreSQL compares in byte order only under
 * "C"/"POSIX"; under any other collation each B-tree step calls the locale's comparison. On
 * C.UTF-8 and ICU en-US databases that measured the same within noise for nenc's ASCII keys.)
 */
const byteOrderText = (statement: string): string =>
  statement.startsWith('CREATE TABLE')
    ? statement.replace(/^(\s+\w+ )text(\[\])?(?=[\s,])/gm, '$1text$2 COLLATE "C"')
    : statement

/** The runner functions' settings: the caller's, and no sequential scan (see the header). */
const RUNNER_FUNCTION_SETTINGS = `${FUNCTION_SETTINGS}
    SET enable_seqscan = off`

/** The statements of migration 1, for schema `s` (already quoted). */
export function up(s: string): string[] {
  return statements(s).map(byteOrderText)
}

function statements(s: string): string[] {
  return [
    // Milliseconds since epoch from the server clock, read when the row is written (after its
    // lock), so each invocation's history is ordered even across waiting writers.
    `CREATE FUNCTION ${s}.now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS
       $$ SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint $$`,

    // Broker: ids ready to run. Retrieval order is (available_at, seq): an immediate id is
    // available when routed, a delayed one joins the back of the queue when it becomes due.
    `CREATE TABLE ${s}.queue (
       app_id text NOT NULL,
       available_at bigint NOT NULL,
       seq bigint GENERATED ALWAYS AS IDENTITY,
       id text NOT NULL,
       PRIMARY KEY (app_id, available_at, seq)
     )`,

    // Primary keys of tables with other indexes are added after those indexes. Statements run on
    // generic plans, made at a connection's first use — often on a fresh, empty schema, where a
    // lookup by (app_id, id) costs the same through any index that starts with app_id and holds
    // id; the planner then keeps the index it met last, and such a plan, kept for the session,
    // would scan an app's whole index range on every lookup once the table has grown.
    // test/plans.test.ts checks the hot statements' plans on an empty schema.
    // Orchestrator: one row per invocation (its status history included), blocking edges,
    // heartbeats. Columns that never change come first and the history last: a status change
    // rewrites the row, and PostgreSQL logs an update on the same page as the bytes between the
    // longest unchanged prefix and suffix, so prepending the new history entry logs only the
    // changed status columns and that entry (see history-entry.ts). No index holds a column
    // that a transition changes, so an update that finds room on its page is heap-only (HOT:
    // no index entry written). A row about doubles in size over its life (registration → final,
    // four history entries, and a small final outcome), hence fillfactor 30: inserts leave the
    // room its updates need (measured: at 70, half the updates left the page and wrote an entry
    // into every index; at 40 with the outcome in the row, 4–13 % did; at 30, none).
    // A final transition written by the fused finish keeps a small outcome in the row
    // (final_kind, final_value, for the row's attempt — a final status never changes again):
    // one write instead of an `outcomes` row and its key (~10 µs of server CPU per invocation,
    // measured). Every other outcome (a retry's error, a larger one, a component's setOutcomes)
    // is an `outcomes` row.
    `CREATE TABLE ${s}.invocations (
       app_id text NOT NULL,
       id text NOT NULL,
       task_id text NOT NULL,
       call_id text NOT NULL,
       registration_key text,
       running_key text,
       reroute boolean NOT NULL DEFAULT false,
       created_at bigint NOT NULL,
       status text NOT NULL,
       owner text,
       status_ts bigint NOT NULL,
       retries integer NOT NULL DEFAULT 0,
       attempt integer NOT NULL DEFAULT 0,
       parked_seq bigint,
       reg_status text,
       final_kind text,
       final_value text,
       history text NOT NULL
     ) WITH (fillfactor = 30)`,
    // Parked order: a claim that parks an id takes the next value (under its key's advisory lock,
    // so the order per key is the order of the parking claims).
    `CREATE SEQUENCE ${s}.parked_seq`,
    // Registration concurrency: at most one REGISTERED invocation per key, enforced by the index
    // so concurrent register() calls cannot both create one (INSERT … ON CONFLICT DO NOTHING).
    // It reads `reg_status` — the status, kept only on rows with a registration key (NULL on
    // the others) — so that no index of the table names a column an unkeyed invocation's
    // transitions change: those updates stay heap-only (HOT), writing no index entry at all.
    `CREATE UNIQUE INDEX invocations_registration_key_idx ON ${s}.invocations (app_id, registration_key)
       WHERE registration_key IS NOT NULL AND reg_status = 'registered'`,
    // The ids parked on each running key, oldest first (release takes the first). Only keyed
    // rows ever set parked_seq.
    `CREATE INDEX invocations_parked_idx ON ${s}.invocations (app_id, running_key, parked_seq)
       WHERE parked_seq IS NOT NULL`,
    // Claim's first step looks up the running keys of a batch; most invocations have none.
    `CREATE INDEX invocations_keyed_idx ON ${s}.invocations (app_id, id) WHERE running_key IS NOT NULL`,
    // listInvocations and pageInvocations (keyset ranges), newest first, with and without a task;
    // a status filter is checked on the rows (no index holds the status: see above). Retention
    // pages through these by creation time too. Ascending, read backward for newest first: new
    // entries land at the right end of the index (or of the task's range), where PostgreSQL
    // inserts without a descent and splits full pages 90/10; a descending index takes them at the
    // left end and splits them in halves (measured: ~130 B less WAL per routed invocation).
    // The records' listing indexes below are ascending for the same reason.
    `CREATE INDEX invocations_created_idx ON ${s}.invocations (app_id, created_at, id)`,
    `CREATE INDEX invocations_task_created_idx ON ${s}.invocations (app_id, task_id, created_at, id)`,
    `ALTER TABLE ${s}.invocations ADD CONSTRAINT invocations_pkey PRIMARY KEY (app_id, id)`,
    // The invocations in an active status (PENDING, RUNNING, PAUSED, RESUMED: core's
    // ACTIVE_STATUSES), one row each, written by the statement that moves the invocation in or
    // out. Recovery looks for stuck and orphaned invocations here, and running concurrency for
    // the active holders of a key, instead of through an index on invocations.status, which
    // would make every status change of every invocation write an entry into every index.
    `CREATE TABLE ${s}.active (
       app_id text NOT NULL,
       id text NOT NULL,
       running_key text
     )`,
    `CREATE INDEX active_running_key_idx ON ${s}.active (app_id, running_key) WHERE running_key IS NOT NULL`,
    `ALTER TABLE ${s}.active ADD CONSTRAINT active_pkey PRIMARY KEY (app_id, id)`,

    `CREATE TABLE ${s}.waits (
       app_id text NOT NULL,
       waiter_id text NOT NULL,
       waited_id text NOT NULL
     )`,
    `CREATE INDEX waits_waited_idx ON ${s}.waits (app_id, waited_id)`,
    `ALTER TABLE ${s}.waits ADD CONSTRAINT waits_pkey PRIMARY KEY (app_id, waiter_id, waited_id)`,

    `CREATE TABLE ${s}.runners (
       app_id text NOT NULL,
       runner_id text NOT NULL,
       created_at bigint NOT NULL,
       last_heartbeat bigint NOT NULL,
       can_run_atomic_service boolean NOT NULL,
       PRIMARY KEY (app_id, runner_id)
     )`,

    // State backend.
    `CREATE TABLE ${s}.invocation_records (
       app_id text NOT NULL,
       id text NOT NULL,
       seq bigint GENERATED ALWAYS AS IDENTITY,
       task_id text NOT NULL,
       task_name text NOT NULL,
       call_id text NOT NULL,
       args text NOT NULL,
       parent_id text,
       workflow_id text NOT NULL,
       workflow_type text NOT NULL,
       parent_workflow_id text,
       created_at bigint NOT NULL,
       run_at bigint,
       -- The caller's W3C trace context as JSON (OpenTelemetry), NULL when it had no recording span.
       trace_context text
     )`,
    `CREATE INDEX invocation_records_parent_idx ON ${s}.invocation_records (app_id, parent_id, seq)
       WHERE parent_id IS NOT NULL`,
    // Listing a parent's children and a workflow's invocations, newest first (keyset pages).
    // Records are written once at routing and never updated, so these cost nothing on transitions.
    `CREATE INDEX invocation_records_parent_created_idx
       ON ${s}.invocation_records (app_id, parent_id, created_at, id) WHERE parent_id IS NOT NULL`,
    // A workflow's invocations other than its root: most invocations are the root of their own
    // workflow (workflow_id = id) and add no entry; the listing finds the root by its key.
    `CREATE INDEX invocation_records_workflow_idx
       ON ${s}.invocation_records (app_id, workflow_id, created_at, id) WHERE workflow_id <> id`,
    `ALTER TABLE ${s}.invocation_records ADD CONSTRAINT invocation_records_pkey PRIMARY KEY (app_id, id)`,
    // One outcome per (invocation, attempt), written once (INSERT … ON CONFLICT DO NOTHING).
    `CREATE TABLE ${s}.outcomes (
       app_id text NOT NULL,
       id text NOT NULL,
       attempt integer NOT NULL,
       kind text NOT NULL,
       value text NOT NULL,
       PRIMARY KEY (app_id, id, attempt)
     )`,
    // The latest progress per invocation; a lower attempt never replaces a higher one's.
    `CREATE TABLE ${s}.progress (
       app_id text NOT NULL,
       id text NOT NULL,
       attempt integer NOT NULL,
       updated_at bigint NOT NULL,
       value text NOT NULL,
       PRIMARY KEY (app_id, id)
     )`,
    `CREATE TABLE ${s}.workflow_data (
       app_id text NOT NULL,
       workflow_id text NOT NULL,
       key text NOT NULL,
       value text NOT NULL,
       PRIMARY KEY (app_id, workflow_id, key)
     )`,
    `CREATE TABLE ${s}.runner_contexts (
       app_id text NOT NULL,
       runner_id text NOT NULL,
       runner_class text NOT NULL,
       parent_runner_id text,
       pid integer NOT NULL,
       hostname text NOT NULL,
       started_at bigint NOT NULL,
       slots integer,
       PRIMARY KEY (app_id, runner_id)
     )`,

    // Client data store.
    `CREATE TABLE ${s}.client_data (
       app_id text NOT NULL,
       key text NOT NULL,
       value text NOT NULL,
       PRIMARY KEY (app_id, key)
     )`,

    // Trigger store.
    `CREATE TABLE ${s}.triggers (
       app_id text NOT NULL,
       task_id text NOT NULL,
       id text NOT NULL,
       seq bigint GENERATED ALWAYS AS IDENTITY,
       condition_ids text[] NOT NULL,
       logic text NOT NULL,
       spec text NOT NULL,
       PRIMARY KEY (app_id, task_id, id)
     )`,
    `CREATE INDEX triggers_conditions_idx ON ${s}.triggers USING gin (condition_ids)`,
    `CREATE TABLE ${s}.valid_conditions (
       app_id text NOT NULL,
       id text NOT NULL,
       seq bigint GENERATED ALWAYS AS IDENTITY,
       condition_id text NOT NULL,
       context text NOT NULL,
       PRIMARY KEY (app_id, id)
     )`,
    `CREATE TABLE ${s}.cron_executions (
       app_id text NOT NULL,
       condition_id text NOT NULL,
       last_run bigint NOT NULL,
       PRIMARY KEY (app_id, condition_id)
     )`,
    `CREATE TABLE ${s}.trigger_runs (
       app_id text NOT NULL,
       run_id text NOT NULL,
       expires_at bigint NOT NULL,
       PRIMARY KEY (app_id, run_id)
     )`,
    // Emitted events, kept for listing; addEvent trims them to the retention.
    `CREATE TABLE ${s}.trigger_events (
       app_id text NOT NULL,
       id text NOT NULL,
       code text NOT NULL,
       payload text NOT NULL,
       emitted_at bigint NOT NULL
     )`,
    `CREATE INDEX trigger_events_time_idx ON ${s}.trigger_events (app_id, emitted_at DESC, id DESC)`,
    `CREATE INDEX trigger_events_code_idx ON ${s}.trigger_events (app_id, code, emitted_at DESC, id DESC)`,
    `ALTER TABLE ${s}.trigger_events ADD CONSTRAINT trigger_events_pkey PRIMARY KEY (app_id, id)`,

    claimFunction(s),
    claimNextFunction(s),
    transitionFunction(s),
    releaseFunction(s),
    finishFunction(s),
    ...registerFunctions(s),
    readFinalFunction(s),
  ]
}

/**
 * The `rel` CTE of claim and transition: deletes the blocking edges of the ids in the CTE `fin`
 * (those that became final), as waiter or waited. Found id by id on both indexes and deleted by
 * ctid: a condition over the whole batch is planned, on an empty table, as a scan of the app's
 * every edge (each checked against the batch), which fan-out parents make large.
 */
const releaseEdgesOfFinals = (s: string) => `rel AS (
        DELETE FROM ${s}.waits w USING (
          ${rowsOfIds(s, 'waits', 'waited_id', 'fin', 'p_app')}
          UNION
          ${rowsOfIds(s, 'waits', 'waiter_id', 'fin', 'p_app')}
        ) d
        WHERE w.ctid = d.tid
      ),`

/**
 * claim(app, ids, runner, available, active, final, rule_keys, rule_modes, channel, lock_ns, commit,
 * records, start): one round trip that claims a batch with the same outcomes as the memory
 * orchestrator, and with `records` also returns the claimed invocations' records (the fused claim
 * steps). With `start`, each claim also moves on PENDING → RUNNING for the runner (the fused
 * steps' `start`): the same UPDATE writes the RUNNING row — one row version per claimed
 * invocation — and two history rows (pending, then running: same attempt and timestamp). A start
 * the rules refuse leaves the claim PENDING and reports it `skipped`.
 *
 * 1. Takes a transaction-scoped advisory lock per running key of the batch, in sorted order (no
 *    deadlock between claimers). Running keys never change, so reading them unlocked is safe.
 * 2. One statement, run with a fresh snapshot taken after those locks (so it sees every claim
 *    committed by a claimer that held one of them): locks the rows still available for run with
 *    FOR UPDATE SKIP LOCKED (a row another claimer holds is `skipped`), decides each outcome —
 *    a key held by an active invocation, or by an earlier id of the same batch, blocks — and
 *    applies it as a compare-and-set with its history row. A claim (→ PENDING) starts the next
 *    attempt; a 'controlled' one (→ CONCURRENCY_CONTROLLED) is parked on its key: it takes the
 *    next `parked_seq`, in request order. Entering a final status (CONCURRENCY_CONTROLLED_FINAL) releases blocking edges and
 *    NOTIFYs the final ids.
 *
 * The status rules arrive as arguments computed from core's table: `available`/`active`/`final`
 * status sets, and `rule_keys`/`rule_modes`, every (target|actor|from|owner-class) that
 * `checkTransition` accepts with the owner it writes (n = none, a = actor, k = keep).
 * Rows are looked up one id at a time through the primary key (LATERAL) and updated through the
 * ctid they were locked at, so no plan can scan an index across the app's backlog however stale
 * the statistics. A row changed after the statement's snapshot is not updated (its outcome is
 * `skipped`, a lost race). `p_commit` ('off' or null) sets synchronous_commit for the
 * claim; a claim that made an invocation final restores the session's value (see options.ts).
 */
function claimFunction(s: string): string {
  return `CREATE FUNCTION ${s}.claim(
      p_app text, p_ids text[], p_runner text,
      p_available text[], p_active text[], p_final text[],
      p_rule_keys text[], p_rule_modes text[], p_channel text, p_lock_ns text, p_commit text,
      p_records boolean, p_start boolean)
    RETURNS TABLE (o_ord bigint, o_id text, o_outcome text, o_task_id text, o_status text,
                   o_owner text, o_ts bigint, o_retries integer, o_attempt integer,
                   o_task_name text, o_call_id text, o_args text, o_parent_id text, o_workflow_id text,
                   o_workflow_type text, o_parent_workflow_id text, o_created_at bigint,
                   o_trace_context text)
    LANGUAGE plpgsql
    ${RUNNER_FUNCTION_SETTINGS}
    AS $fn$
    DECLARE
      v_keys bigint[];
      v_key bigint;
      v_actor text := CASE WHEN p_runner IS NULL OR p_runner = '' THEN '-' ELSE '+' END;
      v_commit text := current_setting('synchronous_commit');
    BEGIN
      IF p_commit IS NOT NULL THEN
        PERFORM set_config('synchronous_commit', p_commit, true);
      END IF;
      SELECT array_agg(DISTINCT hashtextextended(p_lock_ns || k.running_key, 0)
                       ORDER BY hashtextextended(p_lock_ns || k.running_key, 0))
        INTO v_keys
        FROM unnest(p_ids) AS x(id)
        CROSS JOIN LATERAL (SELECT i.running_key FROM ${s}.invocations i
                            WHERE i.app_id = p_app AND i.id = x.id AND i.running_key IS NOT NULL OFFSET 0) k;
      IF v_keys IS NOT NULL THEN
        FOREACH v_key IN ARRAY v_keys LOOP
          PERFORM pg_advisory_xact_lock(v_key);
        END LOOP;
      END IF;

      RETURN QUERY
      WITH req AS (
        SELECT r.id, r.ord FROM unnest(p_ids) WITH ORDINALITY AS r(id, ord)
      ),
      firsts AS (
        SELECT q.id, min(q.ord) AS ord FROM req q GROUP BY q.id
      ),
      locked AS (
        SELECT l.* FROM firsts f
        CROSS JOIN LATERAL (
          SELECT i.ctid AS tid, i.id, i.status, i.owner, i.running_key, i.reroute
          FROM ${s}.invocations i WHERE i.app_id = p_app AND i.id = f.id
          FOR UPDATE SKIP LOCKED) l
      ),
      ruled AS (
        SELECT f.ord, l.*,
          p_rule_modes[array_position(p_rule_keys, 'pending|' || v_actor || '|' || l.status || '|' || oc.c)] AS pend_mode,
          -- Only a row with a running key can be blocked: the others need no control modes.
          CASE WHEN l.running_key IS NOT NULL THEN
            p_rule_modes[array_position(p_rule_keys, 'concurrency_controlled|' || v_actor || '|' || l.status || '|' || oc.c)]
          END AS cc_mode,
          CASE WHEN l.running_key IS NOT NULL THEN
            p_rule_modes[array_position(p_rule_keys, 'concurrency_controlled_final|' || v_actor || '|' || l.status || '|' || oc.c)]
          END AS ccf_mode
        FROM locked l
        JOIN firsts f ON f.id = l.id
        CROSS JOIN LATERAL (SELECT CASE WHEN l.owner IS NULL THEN 'n'
                                        WHEN l.owner = p_runner THEN 'a' ELSE 'o' END AS c) oc
        WHERE l.status = ANY(p_available)
      ),
      held AS (
        -- One probe per key of the batch (LIMIT 1 keeps it one): as a join or an IN, a generic
        -- plan made on an empty table reads every keyed active row of the app.
        SELECT k.running_key FROM (SELECT DISTINCT l.running_key FROM ruled l WHERE l.running_key IS NOT NULL) k
        CROSS JOIN LATERAL (SELECT 1 FROM ${s}.active a
                            WHERE a.app_id = p_app AND a.running_key = k.running_key LIMIT 1) h
      ),
      ranked AS (
        SELECT r.*, (h.running_key IS NOT NULL) AS ext_blocked,
          min(r.ord) FILTER (WHERE r.pend_mode IS NOT NULL) OVER (PARTITION BY r.running_key) AS claimer
        FROM ruled r LEFT JOIN held h ON h.running_key = r.running_key
      ),
      decided AS (
        SELECT k.*, CASE
            WHEN k.running_key IS NULL OR (NOT k.ext_blocked AND (k.claimer IS NULL OR k.ord <= k.claimer))
              THEN CASE WHEN k.pend_mode IS NOT NULL THEN 'claimed' ELSE 'skipped' END
            WHEN NOT k.reroute AND k.ccf_mode IS NOT NULL THEN 'controlled_final'
            WHEN k.cc_mode IS NOT NULL THEN 'controlled'
            ELSE 'deferred'
          END AS outcome
        FROM ranked k
      ),
      parks AS (
        -- Numbered in request order (the sequence is read above the sort).
        SELECT x.id, nextval('${s}.parked_seq') AS seq
        FROM (SELECT d.id FROM decided d WHERE d.outcome = 'controlled' ORDER BY d.ord) x
      ),
      moves AS (
        SELECT d.ord, d.tid, d.id, d.outcome, pk.seq AS park,
          CASE d.outcome WHEN 'claimed' THEN 'pending'
                         WHEN 'controlled' THEN 'concurrency_controlled'
                         ELSE 'concurrency_controlled_final' END AS to_status,
          CASE d.outcome WHEN 'claimed' THEN d.pend_mode
                         WHEN 'controlled' THEN d.cc_mode ELSE d.ccf_mode END AS mode,
          po.owner AS pend_owner,
          -- With p_start, the owner mode of PENDING → RUNNING by the runner from the claimed
          -- row (NULL: not asked, or refused).
          CASE WHEN p_start AND d.outcome = 'claimed' THEN
            p_rule_modes[array_position(p_rule_keys, 'running|' || v_actor || '|pending|' ||
              CASE WHEN po.owner IS NULL THEN 'n' WHEN po.owner = p_runner THEN 'a' ELSE 'o' END)]
          END AS run_mode
        FROM decided d
        CROSS JOIN LATERAL (SELECT CASE d.pend_mode WHEN 'n' THEN NULL WHEN 'a' THEN p_runner
                                                    ELSE d.owner END AS owner) po
        LEFT JOIN parks pk ON pk.id = d.id
        WHERE d.outcome IN ('claimed', 'controlled', 'controlled_final')
      ),
      upd AS (
        -- The new values are computed once per row (one clock read for status and history);
        -- a started claim's history gets its PENDING entry, then RUNNING on top.
        UPDATE ${s}.invocations i
        SET (status, owner, status_ts, attempt, parked_seq, reg_status, history) = (
          SELECT v.status, v.owner, v.ts, v.attempt, m.park,
            CASE WHEN i.registration_key IS NOT NULL THEN v.status END,
            CASE WHEN m.run_mode IS NULL
                 THEN ${historyEntrySql('v.status', 'v.attempt', 'v.ts', 'p_runner', 'v.owner', 'i.owner')}
                 ELSE ${historyEntrySql('v.status', 'v.attempt', 'v.ts', 'p_runner', 'v.owner', 'm.pend_owner')} ||
                      ${historyEntrySql("'pending'", 'v.attempt', 'v.ts', 'p_runner', 'm.pend_owner', 'i.owner')} END ||
            i.history
          FROM (SELECT
            CASE WHEN m.run_mode IS NULL THEN m.to_status ELSE 'running' END AS status,
            CASE WHEN m.run_mode IS NULL THEN
                   CASE m.mode WHEN 'n' THEN NULL WHEN 'a' THEN p_runner ELSE i.owner END
                 ELSE CASE m.run_mode WHEN 'n' THEN NULL WHEN 'a' THEN p_runner ELSE m.pend_owner END
            END AS owner,
            ${s}.now_ms() AS ts,
            i.attempt + CASE m.outcome WHEN 'claimed' THEN 1 ELSE 0 END AS attempt) v)
        FROM moves m
        WHERE i.ctid = m.tid AND i.id = m.id
        RETURNING m.ord, i.id,
          CASE WHEN p_start AND m.outcome = 'claimed' AND m.run_mode IS NULL THEN 'skipped'
               ELSE m.outcome END AS outcome,
          i.task_id, i.status, i.owner, i.status_ts, i.retries, i.attempt, i.running_key
      ),
      acts AS (
        -- A claim takes ids that are available for run (never active, so never in this table:
        -- test/status-rules.test.ts) into PENDING or RUNNING. A plain insert: ON CONFLICT's
        -- speculative insertion cost ~4 µs and a WAL record per row.
        INSERT INTO ${s}.active (app_id, id, running_key)
        SELECT p_app, u.id, u.running_key FROM upd u WHERE u.status = ANY(p_active)
      ),
      fin AS (
        SELECT u.id FROM upd u WHERE u.status = ANY(p_final)
      ),
      ${releaseEdgesOfFinals(s)}
      ntf AS (
        -- A final status is acknowledged to waiters: its commit waits for the flush again.
        SELECT count(pg_notify(p_channel, g.payload)) + count(set_config('synchronous_commit', v_commit, true)) AS n
        FROM (
          SELECT json_agg(x.id)::text AS payload FROM (
            SELECT f.id, (sum(length(f.id) + 3) OVER (ORDER BY f.id)) / 6000 AS grp FROM fin f
          ) x GROUP BY x.grp
        ) g
      )
      SELECT q.ord, q.id,
        CASE WHEN u.id IS NOT NULL THEN u.outcome
             WHEN d.outcome = 'deferred' THEN 'deferred' ELSE 'skipped' END,
        u.task_id, u.status, u.owner, u.status_ts, u.retries, u.attempt,
        rec.task_name, rec.call_id, rec.args, rec.parent_id, rec.workflow_id, rec.workflow_type,
        rec.parent_workflow_id, rec.created_at, rec.trace_context
      FROM req q
      LEFT JOIN decided d ON d.id = q.id
      LEFT JOIN upd u ON u.id = q.id AND u.ord = q.ord
      LEFT JOIN LATERAL (
        SELECT r.* FROM ${s}.invocation_records r
        WHERE p_records AND u.outcome = 'claimed' AND r.app_id = p_app AND r.id = u.id OFFSET 0) rec ON true
      CROSS JOIN ntf
      ORDER BY q.ord;
    END
    $fn$`
}

/**
 * The pop of claim_next (and of finish after a release), as a PL/pgSQL statement: up to `p_max`
 * ids due at `v_now` leave the app's queue into `v_ids`, oldest first (null when none).
 */
const popIntoIds = (s: string) => `WITH picked AS (
        SELECT c.ctid AS tid FROM ${s}.queue c
        WHERE c.app_id = p_app AND c.available_at <= v_now
        ORDER BY c.available_at, c.seq
        LIMIT p_max
        FOR UPDATE SKIP LOCKED
      ),
      popped AS (
        -- Joined by ctid (a TID probe per row): a condition on the queue's columns could be
        -- planned as a scan over its dead rows, which a busy queue has many of between vacuums.
        DELETE FROM ${s}.queue q USING picked p
        WHERE q.ctid = p.tid
        RETURNING q.id, q.available_at, q.seq
      )
      SELECT array_agg(p.id ORDER BY p.available_at, p.seq) INTO v_ids FROM popped p;`

/**
 * claim_next(app, max, runner, …claim's arguments): pops up to `max` due ids from the app's
 * queue (oldest first, `FOR UPDATE SKIP LOCKED`, as `Broker.retrieve`) and claims them for
 * `runner` with the claim function (and, with `start`, starts them), in one round trip (the
 * fused `claimQueued` and the claim part of `finish`). Returns no row when nothing was due.
 */
function claimNextFunction(s: string): string {
  return `CREATE FUNCTION ${s}.claim_next(
      p_app text, p_max integer, p_runner text,
      p_available text[], p_active text[], p_final text[],
      p_rule_keys text[], p_rule_modes text[], p_channel text, p_lock_ns text, p_commit text,
      p_records boolean, p_start boolean)
    RETURNS TABLE (o_ord bigint, o_id text, o_outcome text, o_task_id text, o_status text,
                   o_owner text, o_ts bigint, o_retries integer, o_attempt integer,
                   o_task_name text, o_call_id text, o_args text, o_parent_id text, o_workflow_id text,
                   o_workflow_type text, o_parent_workflow_id text, o_created_at bigint,
                   o_trace_context text)
    LANGUAGE plpgsql
    ${RUNNER_FUNCTION_SETTINGS}
    AS $fn$
    DECLARE
      v_now bigint := ${s}.now_ms();
      v_ids text[];
    BEGIN
      -- The commit mode is the claim's to set (p_commit, restored when a claim makes an
      -- invocation final): it applies at commit, to the pop as well.
      ${popIntoIds(s)}
      IF v_ids IS NULL THEN
        RETURN;
      END IF;
      RETURN QUERY SELECT * FROM ${s}.claim(p_app, v_ids, p_runner, p_available, p_active, p_final,
        p_rule_keys, p_rule_modes, p_channel, p_lock_ns, p_commit, p_records, p_start);
    END
    $fn$`
}

/** The owner mode (n/a/k) the rules give row `x` for request `c`, or NULL if refused. */
const ruleMode = (x: string) =>
  `p_rule_modes[array_position(p_rule_keys,
     c.to_status || CASE WHEN c.actor IS NULL OR c.actor = '' THEN '|-|' ELSE '|+|' END || ${x}.status || '|' ||
     CASE WHEN ${x}.owner IS NULL THEN 'n' WHEN ${x}.owner = c.actor THEN 'a' ELSE 'o' END)]`

/**
 * transition(app, ids, targets, actors, attempts, kinds, values, delays, rule_keys, rule_modes,
 * active, final, channel, queue_channel, lock_ns, commit, release): a batch of transitions in one
 * statement. Ids must be distinct (the caller splits repeats into rounds). `attempts` (null where
 * a request names none), `kinds`/`values` (the outcome to store with an accepted transition) and
 * `delays` (queue an accepted RETRY again after this many ms) may be shorter or empty: missing
 * entries are null.
 *
 * Reads each row through the primary key (LATERAL, in id order: no plan can scan the app's
 * backlog, and concurrent batches lock rows in the same order), then one UPDATE is the
 * compare-and-set: its WHERE applies the attempt fence and the rules to the row it writes, so a
 * row changed concurrently is re-checked against its newest version. Each accepted transition
 * gets its history row (with its attempt); entering PENDING starts the next attempt; RETRY
 * increments retries; an accepted transition's outcome is inserted under (id, attempt) unless
 * that attempt has one; final ones release edges and are NOTIFYed; every one takes its row off
 * its key's parked list. Refused and unknown ids come back with the record as read and write
 * nothing (if that read was older than the refusal, core's check accepts it and the caller asks
 * again).
 *
 * Running keys: a row with one is also locked as it is read (FOR UPDATE, through the keyed
 * index: rows without a key are not touched), so the status it leaves is exact. The accepted
 * transitions that take a keyed row out of the `active` statuses are left, as JSON
 * `[[ord, key], …]`, in the transaction-local setting `nenc.leaving` (set only when there is one:
 * nothing more on the hot path). With `release` the function then runs `release` on them and
 * returns one more row per released id (`o_ord` the transition that released it, `o_released`
 * the id); without it (finish) the caller does.
 */
function transitionFunction(s: string): string {
  return `CREATE FUNCTION ${s}.transition(
      p_app text, p_ids text[], p_to text[], p_actors text[], p_attempts integer[],
      p_kinds text[], p_values text[], p_delays integer[],
      p_rule_keys text[], p_rule_modes text[], p_active text[], p_final text[], p_channel text,
      p_queue_channel text, p_lock_ns text, p_commit text, p_release boolean)
    RETURNS TABLE (o_ord bigint, o_ok boolean, o_found boolean, o_task_id text, o_status text,
                   o_owner text, o_ts bigint, o_retries integer, o_attempt integer, o_released text)
    LANGUAGE plpgsql
    ${RUNNER_FUNCTION_SETTINGS}
    AS $fn$
    DECLARE
      v_leaving text;
    BEGIN
      IF p_commit IS NOT NULL THEN
        PERFORM set_config('synchronous_commit', p_commit, true);
      END IF;
      RETURN QUERY
      WITH req AS (
        SELECT r.* FROM unnest(p_ids, p_to, p_actors, p_attempts, p_kinds, p_values, p_delays)
          WITH ORDINALITY AS r(id, to_status, actor, req_attempt, kind, value, delay_ms, ord)
        WHERE r.id IS NOT NULL
      ),
      cur AS (
        SELECT q.*, l.*, k.key_status
        FROM (SELECT * FROM req ORDER BY id) q
        CROSS JOIN LATERAL (
          -- OFFSET 0 keeps this a primary-key probe per id: without it the planner may flatten
          -- the lateral into a join that reads the whole app.
          SELECT i.ctid AS tid, i.task_id, i.status, i.owner, i.status_ts, i.retries, i.attempt AS cur_attempt
          FROM ${s}.invocations i WHERE i.app_id = p_app AND i.id = q.id OFFSET 0) l
        LEFT JOIN LATERAL (
          SELECT i.status AS key_status FROM ${s}.invocations i
          WHERE i.app_id = p_app AND i.id = q.id AND i.running_key IS NOT NULL
          FOR UPDATE) k ON true
      ),
      upd AS (
        -- The new values are computed once per row, when it is written (after any lock wait):
        -- one clock read for status and history, so each history is ordered.
        UPDATE ${s}.invocations i
        SET (status, owner, status_ts, retries, attempt, parked_seq, reg_status, final_kind, final_value,
             history) = (
          SELECT v.status, v.owner, v.ts, i.retries + CASE WHEN c.to_status = 'retry' THEN 1 ELSE 0 END,
            v.attempt, NULL::bigint, CASE WHEN i.registration_key IS NOT NULL THEN v.status END,
            CASE WHEN fo.keep THEN c.kind END, CASE WHEN fo.keep THEN c.value END,
            ${historyEntrySql('v.status', 'v.attempt', 'v.ts', 'c.actor', 'v.owner', 'i.owner')} || i.history
          FROM (SELECT c.to_status AS status,
            CASE ${ruleMode('i')} WHEN 'n' THEN NULL WHEN 'a' THEN c.actor ELSE i.owner END AS owner,
            ${s}.now_ms() AS ts,
            i.attempt + CASE WHEN c.to_status = 'pending' THEN 1 ELSE 0 END AS attempt) v
          -- A small final outcome goes into the row (see FINAL_OUTCOME_IN_ROW_MAX_CHARS); a larger
          -- one would leave too little room on the page for heap-only updates, and goes to
          -- \`outcomes\` (outs below). Write-once per attempt: an outcome the attempt already has in
          -- \`outcomes\` (a component's setOutcomes) is kept, and the row gets none. (A final status
          -- keeps its attempt, so the row's outcome is that attempt's.)
          CROSS JOIN LATERAL (SELECT c.kind IS NOT NULL AND c.to_status = ANY(p_final)
            AND length(c.value) <= ${FINAL_OUTCOME_IN_ROW_MAX_CHARS} AND NOT EXISTS (
            SELECT 1 FROM ${s}.outcomes o WHERE o.app_id = p_app AND o.id = i.id AND o.attempt = v.attempt)
            AS keep) fo)
        FROM cur c
        WHERE i.ctid = c.tid AND i.id = c.id
          AND (c.req_attempt IS NULL OR i.attempt = c.req_attempt)
          AND ${ruleMode('i')} IS NOT NULL
        RETURNING c.ord, i.id, i.task_id, i.status, i.owner, i.status_ts, i.retries, i.attempt,
                  c.actor, c.kind, c.value, c.delay_ms, i.running_key, c.key_status,
                  i.final_kind, i.final_value
      ),
      acts AS (
        -- The active table follows the status written (whatever the status left).
        INSERT INTO ${s}.active (app_id, id, running_key)
        SELECT p_app, u.id, u.running_key FROM upd u WHERE u.status = ANY(p_active)
        ON CONFLICT DO NOTHING
      ),
      inacts AS (
        -- Found id by id and deleted by ctid (see rel below: a condition over the batch would be
        -- planned as a scan of the app's every active row).
        DELETE FROM ${s}.active a USING (
          SELECT x.tid FROM upd u CROSS JOIN LATERAL (
            SELECT a2.ctid AS tid FROM ${s}.active a2 WHERE a2.app_id = p_app AND a2.id = u.id OFFSET 0) x
          WHERE NOT (u.status = ANY(p_active))
        ) d
        WHERE a.ctid = d.tid
      ),
      outs AS (
        -- Every outcome the row did not take (a retry's error, a large final outcome) is a row
        -- here, write-once per attempt.
        INSERT INTO ${s}.outcomes (app_id, id, attempt, kind, value)
        SELECT p_app, u.id, u.attempt, u.kind, u.value FROM upd u
        WHERE u.kind IS NOT NULL AND u.final_kind IS NULL
        ON CONFLICT DO NOTHING
        RETURNING id, kind, value
      ),
      requeued AS (
        INSERT INTO ${s}.queue (app_id, available_at, id)
        SELECT p_app, ${s}.now_ms() + u.delay_ms, u.id FROM upd u
        WHERE u.delay_ms IS NOT NULL AND u.status = 'retry'
        ORDER BY u.ord
      ),
      qntf AS (
        SELECT count(pg_notify(p_queue_channel, CASE WHEN d.delay_ms > 0 THEN d.delay_ms::text ELSE '' END)) AS n
        FROM (SELECT DISTINCT u.delay_ms FROM upd u WHERE u.delay_ms IS NOT NULL AND u.status = 'retry') d
      ),
      fin AS (SELECT u.id FROM upd u WHERE u.status = ANY(p_final)),
      ${releaseEdgesOfFinals(s)}
      outmap AS MATERIALIZED (
        -- Built once (not per final id, as an inlined subquery would be).
        -- The outcomes this statement stored: in the rows, or in \`outcomes\`.
        SELECT jsonb_object_agg(x.id, jsonb_build_array(x.kind, x.value)) AS m FROM (
          SELECT u.id, u.final_kind AS kind, u.final_value AS value FROM upd u WHERE u.final_kind IS NOT NULL
          UNION ALL SELECT o.id, o.kind, o.value FROM outs o) x
        WHERE length(x.value) <= ${MAX_INLINE_OUTCOME_CHARS}
      ),
      ntf AS (
        -- Each entry is the id, or [id, kind, value] when this statement stored a small outcome
        -- (core's MAX_INLINE_OUTCOME_CHARS, at most 4,000 bytes as JSON): a waiter that has it needs no
        -- read. Notifications stay under PostgreSQL's 8,000-byte payload limit: entries are
        -- grouped by 3,500 bytes, so a group holds at most 3,500 + one entry of 4,000.
        SELECT count(pg_notify(p_channel, g.payload)) AS n FROM (
          SELECT '[' || string_agg(x.entry, ',' ORDER BY x.id) || ']' AS payload FROM (
            SELECT e.id, e.entry, (sum(octet_length(e.entry) + 1) OVER (ORDER BY e.id)) / 3500 AS grp
            FROM (
              -- The stored outcomes are looked up in one jsonb object (a binary search per id):
              -- a join of the two CTEs would be planned as a nested loop, quadratic in the batch.
              SELECT f.id, CASE WHEN octet_length(j.t) <= 4000 THEN j.t ELSE to_json(f.id)::text END AS entry
              FROM fin f
              CROSS JOIN outmap om
              LEFT JOIN LATERAL (SELECT json_build_array(f.id, om.m -> f.id ->> 0, om.m -> f.id ->> 1)::text AS t
                                 WHERE om.m ? f.id) j ON true
            ) e
          ) x GROUP BY x.grp
        ) g
      ),
      leaving AS (
        SELECT count(set_config('nenc.leaving', x.j, true)) AS n FROM (
          SELECT json_agg(json_build_array(u.ord, u.running_key))::text AS j FROM upd u
          WHERE u.running_key IS NOT NULL AND u.key_status = ANY(p_active) AND NOT (u.status = ANY(p_active))
          HAVING count(*) > 0
        ) x
      )
      SELECT r.ord, (u.id IS NOT NULL), (c.id IS NOT NULL),
        coalesce(u.task_id, c.task_id),
        coalesce(u.status, c.status),
        CASE WHEN u.id IS NOT NULL THEN u.owner ELSE c.owner END,
        coalesce(u.status_ts, c.status_ts),
        coalesce(u.retries, c.retries),
        coalesce(u.attempt, c.cur_attempt),
        NULL::text
      FROM req r
      LEFT JOIN upd u ON u.ord = r.ord
      LEFT JOIN cur c ON c.ord = r.ord
      CROSS JOIN ntf CROSS JOIN qntf CROSS JOIN leaving
      ORDER BY r.ord;
      IF p_release THEN
        v_leaving := nullif(current_setting('nenc.leaving', true), '');
        IF v_leaving IS NOT NULL THEN
          PERFORM set_config('nenc.leaving', '', true);
          RETURN QUERY SELECT r.o_ord, true, true, NULL::text, NULL::text, NULL::text, NULL::bigint,
              NULL::integer, NULL::integer, r.o_id
            FROM ${s}.release(p_app, v_leaving, p_active, p_lock_ns, NULL) r;
        END IF;
      END IF;
    END
    $fn$`
}

/**
 * release(app, leaving, active, lock_ns, ids): the parked ids that transitions free. `leaving` is
 * the JSON `[[ord, key], …]` of accepted transitions that took a keyed invocation out of the
 * active statuses (see transition). Takes the advisory lock of each of those keys — and of the
 * running keys of `ids`, the batch finish claims next, so that one transaction takes all its key
 * locks in one sorted pass (no deadlock between finishers) — then, with a fresh snapshot: for
 * each key no active invocation holds any more, the oldest parked row leaves the list (its
 * `parked_seq` cleared; it stays CONCURRENCY_CONTROLLED) and comes back as (ord of the first
 * transition that left the key, id). One id per key.
 *
 * The locks pair it with claim: a claim that parked an id under the key before this release took
 * the lock has committed, so the snapshot sees it parked; a claim after it waits for this
 * transaction and sees the key free. A parked row another transaction holds is being moved out
 * of CONCURRENCY_CONTROLLED (off the list): it is skipped, the next one is taken.
 */
function releaseFunction(s: string): string {
  return `CREATE FUNCTION ${s}.release(
      p_app text, p_leaving text, p_active text[], p_lock_ns text, p_ids text[])
    RETURNS TABLE (o_ord bigint, o_id text)
    LANGUAGE plpgsql
    ${RUNNER_FUNCTION_SETTINGS}
    AS $fn$
    DECLARE
      v_keys bigint[];
      v_key bigint;
    BEGIN
      SELECT array_agg(DISTINCT h.k ORDER BY h.k) INTO v_keys FROM (
        SELECT hashtextextended(p_lock_ns || (e.v ->> 1), 0) FROM json_array_elements(p_leaving::json) e(v)
        UNION ALL
        SELECT hashtextextended(p_lock_ns || k.running_key, 0)
        FROM unnest(coalesce(p_ids, '{}')) AS x(id)
        CROSS JOIN LATERAL (SELECT i.running_key FROM ${s}.invocations i
                            WHERE i.app_id = p_app AND i.id = x.id AND i.running_key IS NOT NULL OFFSET 0) k
      ) h(k);
      FOREACH v_key IN ARRAY coalesce(v_keys, '{}') LOOP
        PERFORM pg_advisory_xact_lock(v_key);
      END LOOP;

      RETURN QUERY
      WITH keys AS (
        SELECT e.v ->> 1 AS key, min((e.v ->> 0)::bigint) AS ord
        FROM json_array_elements(p_leaving::json) e(v) GROUP BY 1
      ),
      freed AS (
        SELECT k.key, k.ord FROM keys k
        WHERE NOT EXISTS (
          SELECT 1 FROM ${s}.active a WHERE a.app_id = p_app AND a.running_key = k.key)
      ),
      picked AS (
        SELECT f.ord, p.id FROM freed f
        CROSS JOIN LATERAL (
          SELECT i.id FROM ${s}.invocations i
          WHERE i.app_id = p_app AND i.running_key = f.key AND i.parked_seq IS NOT NULL
          ORDER BY i.parked_seq
          LIMIT 1
          FOR UPDATE SKIP LOCKED) p
      ),
      upd AS (
        UPDATE ${s}.invocations i SET parked_seq = NULL
        FROM picked p
        WHERE i.app_id = p_app AND i.id = p.id
        RETURNING p.ord, i.id
      )
      SELECT u.ord, u.id FROM upd u ORDER BY u.ord;
    END
    $fn$`
}

/**
 * finish(app, runner, ids, targets, attempts, kinds, values, delays, available, active, final,
 * rule_keys, rule_modes, channel, queue_channel, lock_ns, commit, max, start): a runner's end of
 * a batch of attempts — the transition function (actor `runner`, fenced by each attempt, outcomes
 * and RETRY re-queues only for accepted ones), then, when `max > 0`, what claim_next does for the
 * same runner: up to `max` due ids popped and claimed with records (started with `start`), with
 * the claim function called here directly (one level of returned rows fewer) — in one round trip
 * and one transaction. Rows with `o_step = 't'` are the
 * transitions (ord = request position), `'r'` the ids they released (ord = the transition,
 * `o_id` the released id), `'c'` the claims. `commit` is null when a target is final
 * (acknowledged to waiters), else the intermediate mode.
 *
 * The claim's ids are popped before anything is released: when a transition left a running key
 * (`nenc.leaving`, see transition), `release` takes the locks of the released keys and of the
 * claim's keys in one sorted pass; the claim then finds them held (advisory locks are reentrant).
 */
function finishFunction(s: string): string {
  return `CREATE FUNCTION ${s}.finish(
      p_app text, p_runner text, p_ids text[], p_to text[], p_attempts integer[],
      p_kinds text[], p_values text[], p_delays integer[],
      p_available text[], p_active text[], p_final text[], p_rule_keys text[], p_rule_modes text[],
      p_channel text, p_queue_channel text, p_lock_ns text, p_commit text, p_max integer,
      p_start boolean)
    RETURNS TABLE (o_step text, o_ord bigint, o_id text, o_ok boolean, o_found boolean, o_outcome text,
                   o_task_id text, o_status text, o_owner text, o_ts bigint, o_retries integer,
                   o_attempt integer,
                   o_task_name text, o_call_id text, o_args text, o_parent_id text, o_workflow_id text,
                   o_workflow_type text, o_parent_workflow_id text, o_created_at bigint,
                   o_trace_context text)
    LANGUAGE plpgsql
    ${RUNNER_FUNCTION_SETTINGS}
    AS $fn$
    DECLARE
      v_commit text := current_setting('synchronous_commit');
      v_leaving text;
      v_now bigint;
      v_ids text[];
    BEGIN
      IF cardinality(p_ids) > 0 THEN
        RETURN QUERY SELECT 't'::text, t.o_ord, p_ids[t.o_ord::integer], t.o_ok, t.o_found, NULL::text,
            t.o_task_id, t.o_status, t.o_owner, t.o_ts, t.o_retries, t.o_attempt,
            NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint,
            NULL::text
          FROM ${s}.transition(p_app, p_ids, p_to, array_fill(p_runner, ARRAY[cardinality(p_ids)]), p_attempts,
            p_kinds, p_values, p_delays, p_rule_keys, p_rule_modes, p_active, p_final, p_channel,
            p_queue_channel, p_lock_ns, p_commit, false) t;
        v_leaving := nullif(current_setting('nenc.leaving', true), '');
      END IF;
      -- The claim's ids are popped here (claim_next's pop, without its extra level of results).
      IF p_max > 0 THEN
        v_now := ${s}.now_ms();
        ${popIntoIds(s)}
      END IF;
      IF v_leaving IS NOT NULL THEN
        -- A running key was left: release (all key locks at once, the claim's included) first.
        PERFORM set_config('nenc.leaving', '', true);
        RETURN QUERY SELECT 'r'::text, r.o_ord, r.o_id, true, true, NULL::text,
            NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::integer, NULL::integer,
            NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint,
              NULL::text
          FROM ${s}.release(p_app, v_leaving, p_active, p_lock_ns, v_ids) r;
      END IF;
      IF v_ids IS NOT NULL THEN
        -- The claim starts from the session's commit mode, so a claim that makes an invocation
        -- final (CONCURRENCY_CONTROLLED_FINAL) restores it even after a batch of RETRYs.
        PERFORM set_config('synchronous_commit', v_commit, true);
        RETURN QUERY SELECT 'c'::text, c.o_ord, c.o_id, NULL::boolean, NULL::boolean, c.o_outcome,
            c.o_task_id, c.o_status, c.o_owner, c.o_ts, c.o_retries, c.o_attempt,
            c.o_task_name, c.o_call_id, c.o_args, c.o_parent_id, c.o_workflow_id, c.o_workflow_type,
            c.o_parent_workflow_id, c.o_created_at, c.o_trace_context
          FROM ${s}.claim(p_app, v_ids, p_runner, p_available, p_active, p_final,
            p_rule_keys, p_rule_modes, p_channel, p_lock_ns, p_commit, true, p_start) c;
      END IF;
    END
    $fn$`
}
