/**
 * Migration 4: `claim_next(app, max, runner, …claim's arguments)` pops up to `max` due ids from
 * the app's queue (oldest first, `FOR UPDATE SKIP LOCKED`, as `Broker.retrieve`) and claims them
 * for `runner` with the claim function, in one round trip. The orchestrator runs it beside a
 * runner's final transitions, so the runner's next `retrieve()` and `claim()` are answered
 * without a round trip (see component-link.ts).
 */
export const version = 4
export const name = 'claim_next'

export function up(s: string): string[] {
  return [
    `CREATE FUNCTION ${s}.claim_next(
        p_app text, p_max integer, p_runner text,
        p_available text[], p_active text[], p_final text[],
        p_rule_keys text[], p_rule_modes text[], p_channel text, p_lock_ns text, p_commit text,
        p_records boolean)
      RETURNS TABLE (o_ord bigint, o_id text, o_outcome text, o_task_id text, o_status text,
                     o_owner text, o_ts bigint, o_retries integer,
                     o_task_name text, o_call_id text, o_args text, o_parent_id text, o_workflow_id text,
                     o_workflow_type text, o_parent_workflow_id text, o_created_at bigint)
      LANGUAGE plpgsql
      AS $fn$
      DECLARE
        v_now bigint := ${s}.now_ms();
        v_ids text[];
      BEGIN
        IF p_commit IS NOT NULL THEN
          PERFORM set_config('synchronous_commit', p_commit, true);
        END IF;
        WITH popped AS (
          DELETE FROM ${s}.queue q
          WHERE q.app_id = p_app AND q.ctid = ANY(ARRAY(
            SELECT c.ctid FROM ${s}.queue c
            WHERE c.app_id = p_app AND c.available_at <= v_now
            ORDER BY c.available_at, c.seq
            LIMIT p_max
            FOR UPDATE SKIP LOCKED))
          RETURNING q.id, q.available_at, q.seq
        )
        SELECT array_agg(p.id ORDER BY p.available_at, p.seq) INTO v_ids FROM popped p;
        IF v_ids IS NULL THEN
          RETURN;
        END IF;
        RETURN QUERY SELECT * FROM ${s}.claim(p_app, v_ids, p_runner, p_available, p_active, p_final,
          p_rule_keys, p_rule_modes, p_channel, p_lock_ns, p_commit, p_records);
      END
      $fn$`,
  ]
}
