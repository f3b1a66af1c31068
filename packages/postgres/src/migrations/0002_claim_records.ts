/**
 * Migration 2: the claim function also returns the claimed invocations' records, so a runner's
 * `getInvocations` right after its claim costs no round trip when the state backend shares the
 * connection. Replaces migration 1's function (same body otherwise).
 */
export const version = 2
export const name = 'claim_returns_records'

export function up(s: string): string[] {
  return [
    `DROP FUNCTION ${s}.claim(text, text[], text, text[], text[], text[], text[], text[], text, text, text)`,
    claimFunction(s),
  ]
}

/**
 * claim(app, ids, runner, available, active, final, rule_keys, rule_modes, channel, lock_ns, commit,
 * records): one round trip that claims a batch with the same outcomes as the memory orchestrator,
 * and with `records` also returns the claimed invocations' records (see component-link.ts).
 *
 * 1. Takes a transaction-scoped advisory lock per running key of the batch, in sorted order (no
 *    deadlock between claimers). Running keys never change, so reading them unlocked is safe.
 * 2. One statement, run with a fresh snapshot taken after those locks (so it sees every claim
 *    committed by a claimer that held one of them): locks the rows still available for run with
 *    FOR UPDATE SKIP LOCKED (a row another claimer holds is `skipped`), decides each outcome —
 *    a key held by an active invocation, or by an earlier id of the same batch, blocks — and
 *    applies it as a compare-and-set with its history row. Entering a final status
 *    (CONCURRENCY_CONTROLLED_FINAL) releases blocking edges and NOTIFYs the final ids.
 *
 * The status rules arrive as arguments computed from core's table: `available`/`active`/`final`
 * status sets, and `rule_keys`/`rule_modes`, every (target|actor|from|owner-class) that
 * `checkTransition` accepts with the owner it writes (n = none, a = actor, k = keep).
 * Rows are looked up one id at a time through the primary key (LATERAL) and updated through the
 * ctid they were locked at, so no plan can scan an index across the app's backlog however stale
 * the statistics. A row changed after the statement's snapshot is not updated (its outcome is
 * `skipped`, a lost race). `p_commit` ('off' or null) sets synchronous_commit for the
 * claim; a claim that made an invocation final restores the session's value (see options.ts).
 * force_custom_plan (migration 2 only): the status arrays are planned as constants, so partial
 * indexes apply. Migration 3 drops it (see there).
 */
export function claimFunction(s: string, options = { forceCustomPlans: true }): string {
  return `CREATE FUNCTION ${s}.claim(
      p_app text, p_ids text[], p_runner text,
      p_available text[], p_active text[], p_final text[],
      p_rule_keys text[], p_rule_modes text[], p_channel text, p_lock_ns text, p_commit text,
      p_records boolean)
    RETURNS TABLE (o_ord bigint, o_id text, o_outcome text, o_task_id text, o_status text,
                   o_owner text, o_ts bigint, o_retries integer,
                   o_task_name text, o_call_id text, o_args text, o_parent_id text, o_workflow_id text,
                   o_workflow_type text, o_parent_workflow_id text, o_created_at bigint)
    LANGUAGE plpgsql${options.forceCustomPlans ? '\n    SET plan_cache_mode = force_custom_plan' : ''}
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
                            WHERE i.app_id = p_app AND i.id = x.id AND i.running_key IS NOT NULL) k;
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
          p_rule_modes[array_position(p_rule_keys, 'concurrency_controlled|' || v_actor || '|' || l.status || '|' || oc.c)] AS cc_mode,
          p_rule_modes[array_position(p_rule_keys, 'concurrency_controlled_final|' || v_actor || '|' || l.status || '|' || oc.c)] AS ccf_mode
        FROM locked l
        JOIN firsts f ON f.id = l.id
        CROSS JOIN LATERAL (SELECT CASE WHEN l.owner IS NULL THEN 'n'
                                        WHEN l.owner = p_runner THEN 'a' ELSE 'o' END AS c) oc
        WHERE l.status = ANY(p_available)
      ),
      held AS (
        SELECT DISTINCT a.running_key FROM ${s}.invocations a
        WHERE a.app_id = p_app AND a.running_key IS NOT NULL AND a.status = ANY(p_active)
          AND a.running_key IN (SELECT l.running_key FROM ruled l WHERE l.running_key IS NOT NULL)
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
      moves AS (
        SELECT d.ord, d.tid, d.id, d.outcome,
          CASE d.outcome WHEN 'claimed' THEN 'pending'
                         WHEN 'controlled' THEN 'concurrency_controlled'
                         ELSE 'concurrency_controlled_final' END AS to_status,
          CASE d.outcome WHEN 'claimed' THEN d.pend_mode
                         WHEN 'controlled' THEN d.cc_mode ELSE d.ccf_mode END AS mode
        FROM decided d WHERE d.outcome IN ('claimed', 'controlled', 'controlled_final')
      ),
      upd AS (
        UPDATE ${s}.invocations i
        SET status = m.to_status,
            owner = CASE m.mode WHEN 'n' THEN NULL WHEN 'a' THEN p_runner ELSE i.owner END,
            status_ts = ${s}.now_ms()
        FROM moves m
        WHERE i.ctid = m.tid AND i.id = m.id
        RETURNING m.ord, i.id, m.outcome, i.task_id, i.status, i.owner, i.status_ts, i.retries
      ),
      hist AS (
        INSERT INTO ${s}.history (app_id, id, status, owner, actor, ts)
        SELECT p_app, u.id, u.status, u.owner, p_runner, u.status_ts FROM upd u
      ),
      fin AS (
        SELECT u.id FROM upd u WHERE u.status = ANY(p_final)
      ),
      rel AS (
        DELETE FROM ${s}.waits w
        WHERE w.app_id = p_app
          AND (w.waited_id = ANY(ARRAY(SELECT f.id FROM fin f)) OR w.waiter_id = ANY(ARRAY(SELECT f.id FROM fin f)))
      ),
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
        u.task_id, u.status, u.owner, u.status_ts, u.retries,
        rec.task_name, rec.call_id, rec.args, rec.parent_id, rec.workflow_id, rec.workflow_type,
        rec.parent_workflow_id, rec.created_at
      FROM req q
      LEFT JOIN decided d ON d.id = q.id
      LEFT JOIN upd u ON u.id = q.id AND u.ord = q.ord
      LEFT JOIN LATERAL (
        SELECT r.* FROM ${s}.invocation_records r
        WHERE p_records AND u.outcome = 'claimed' AND r.app_id = p_app AND r.id = u.id) rec ON true
      CROSS JOIN ntf
      ORDER BY q.ord;
    END
    $fn$`
}
