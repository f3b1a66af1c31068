import {
  CorruptDataError,
  type EventCursor,
  type ListEventsQuery,
  type StoredEvent,
  type TriggerDefinition,
  type TriggerStore,
} from '@nenc/core'
import { BACKEND } from './pg-errors.js'
import { PostgresComponent } from './postgres-component.js'
import { storedNumber } from './status-rules.js'

type ValidCondition = { id: string; conditionId: string; context: string }

/**
 * Trigger definitions, valid conditions and the once-only bookkeeping of cron ticks and trigger
 * runs. The compare-and-set methods are single statements whose row lock decides the winner:
 * `INSERT … ON CONFLICT DO NOTHING` for a first value, `UPDATE … WHERE last_run = expected` for
 * the next, `ON CONFLICT DO UPDATE … WHERE expires_at <= now` for an expired run claim.
 */
export class PostgresTriggerStore extends PostgresComponent implements TriggerStore {
  async setTaskTriggers(taskId: string, triggers: readonly TriggerDefinition[]): Promise<void> {
    const ts = [...new Map(triggers.map((t) => [t.id, t])).values()]
    // One statement, so readers see the old set or the new one, never a mix. Updated rows take a
    // new seq: listing order follows the latest definition, as in the memory store.
    await this.query(
      `WITH x AS (
         SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[])
           WITH ORDINALITY AS x(id, conds, logic, spec, ord)
       ),
       up AS (
         INSERT INTO ${this.s}.triggers AS t (app_id, task_id, id, condition_ids, logic, spec)
         SELECT $1, $2, x.id, ARRAY(SELECT jsonb_array_elements_text(x.conds::jsonb)), x.logic, x.spec
         FROM x ORDER BY x.ord
         ON CONFLICT (app_id, task_id, id) DO UPDATE SET
           condition_ids = EXCLUDED.condition_ids, logic = EXCLUDED.logic, spec = EXCLUDED.spec, seq = DEFAULT
       )
       DELETE FROM ${this.s}.triggers t WHERE t.app_id = $1 AND t.task_id = $2 AND NOT (t.id = ANY($3::text[]))`,
      [
        this.appId,
        taskId,
        ts.map((t) => t.id),
        ts.map((t) => JSON.stringify(t.conditionIds)),
        ts.map((t) => t.logic),
        ts.map((t) => t.spec),
      ],
      'setTaskTriggers',
    )
  }

  async getTriggers(conditionId?: string): Promise<TriggerDefinition[]> {
    const byCondition = conditionId !== undefined
    const rows = await this.query<{
      id: string
      task_id: string
      condition_ids: string[]
      logic: string
      spec: string
    }>(
      `SELECT id, task_id, condition_ids, logic, spec FROM ${this.s}.triggers
       WHERE app_id = $1 ${byCondition ? 'AND condition_ids @> ARRAY[$2::text]' : ''}
       ORDER BY seq`,
      byCondition ? [this.appId, conditionId] : [this.appId],
      'getTriggers',
    )
    return rows.map((r) => {
      if (r.logic !== 'and' && r.logic !== 'or') {
        throw new CorruptDataError(BACKEND, `trigger ${r.id}`, `logic "${r.logic}" is neither and nor or`)
      }
      return { id: r.id, taskId: r.task_id, conditionIds: r.condition_ids, logic: r.logic, spec: r.spec }
    })
  }

  async addValidConditions(items: readonly ValidCondition[]): Promise<void> {
    if (items.length === 0) return
    const first = new Map<string, ValidCondition>()
    for (const it of items) if (!first.has(it.id)) first.set(it.id, it)
    const xs = [...first.values()]
    await this.query(
      `INSERT INTO ${this.s}.valid_conditions (app_id, id, condition_id, context)
       SELECT $1, x.id, x.condition_id, x.context
       FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(id, condition_id, context, ord)
       ORDER BY x.ord
       ON CONFLICT (app_id, id) DO NOTHING`,
      [this.appId, xs.map((x) => x.id), xs.map((x) => x.conditionId), xs.map((x) => x.context)],
      'addValidConditions',
    )
  }

  async getValidConditions(): Promise<ValidCondition[]> {
    const rows = await this.query<{ id: string; condition_id: string; context: string }>(
      `SELECT id, condition_id, context FROM ${this.s}.valid_conditions WHERE app_id = $1 ORDER BY seq`,
      [this.appId],
      'getValidConditions',
    )
    return rows.map((r) => ({ id: r.id, conditionId: r.condition_id, context: r.context }))
  }

  async clearValidConditions(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    await this.query(
      `DELETE FROM ${this.s}.valid_conditions WHERE app_id = $1 AND id = ANY($2::text[])`,
      [this.appId, ids],
      'clearValidConditions',
    )
  }

  async getLastCronExecution(conditionId: string): Promise<number | null> {
    const [row] = await this.query<{ last_run: string }>(
      `SELECT last_run FROM ${this.s}.cron_executions WHERE app_id = $1 AND condition_id = $2`,
      [this.appId, conditionId],
      'getLastCronExecution',
    )
    return row ? storedNumber(row.last_run, `cron execution of ${conditionId}`) : null
  }

  async setLastCronExecution(conditionId: string, expected: number | null, next: number): Promise<boolean> {
    const rows =
      expected === null
        ? await this.query(
            `INSERT INTO ${this.s}.cron_executions (app_id, condition_id, last_run) VALUES ($1, $2, $3)
             ON CONFLICT (app_id, condition_id) DO NOTHING RETURNING 1`,
            [this.appId, conditionId, next],
            'setLastCronExecution',
          )
        : await this.query(
            `UPDATE ${this.s}.cron_executions SET last_run = $3
             WHERE app_id = $1 AND condition_id = $2 AND last_run = $4 RETURNING 1`,
            [this.appId, conditionId, next, expected],
            'setLastCronExecution',
          )
    return rows.length === 1
  }

  async claimTriggerRun(runId: string, ttlMs: number): Promise<boolean> {
    const rows = await this.query(
      `INSERT INTO ${this.s}.trigger_runs AS t (app_id, run_id, expires_at)
       VALUES ($1, $2, (SELECT ${this.s}.now_ms()) + $3)
       ON CONFLICT (app_id, run_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
       WHERE t.expires_at <= (SELECT ${this.s}.now_ms())
       RETURNING 1`,
      [this.appId, runId, ttlMs],
      'claimTriggerRun',
    )
    return rows.length === 1
  }

  async addEvent(event: StoredEvent, retentionMs: number): Promise<void> {
    // One statement: the new row and the trim of the expired ones commit together.
    await this.query(
      `WITH trim AS (DELETE FROM ${this.s}.trigger_events WHERE app_id = $1 AND emitted_at < $6)
       INSERT INTO ${this.s}.trigger_events (app_id, id, code, payload, emitted_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (app_id, id) DO NOTHING`,
      [this.appId, event.id, event.code, event.payload, event.emittedAt, event.emittedAt - retentionMs],
      'addEvent',
    )
  }

  async listEvents(query: ListEventsQuery = {}): Promise<StoredEvent[]> {
    const byCode = query.code !== undefined
    const rows = await this.query<{ id: string; code: string; payload: string; emitted_at: string }>(
      `SELECT id, code, payload, emitted_at FROM ${this.s}.trigger_events
       WHERE app_id = $1 ${byCode ? 'AND code = $3' : ''}
       ORDER BY emitted_at DESC, id COLLATE "C" DESC LIMIT $2`,
      byCode ? [this.appId, query.limit ?? 100, query.code] : [this.appId, query.limit ?? 100],
      'listEvents',
    )
    return rows.map((r) => ({
      id: r.id,
      code: r.code,
      payload: r.payload,
      emittedAt: storedNumber(r.emitted_at, `event ${r.id}`),
    }))
  }

  async listEventsAfter(code: string, after: EventCursor, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return []
    // Walks trigger_events_code_idx backwards; COLLATE "C" compares ids bytewise, as every backend does.
    const rows = await this.query<{ id: string; code: string; payload: string; emitted_at: string }>(
      `SELECT id, code, payload, emitted_at FROM ${this.s}.trigger_events
       WHERE app_id = $1 AND code = $2
         AND (emitted_at > $3 OR (emitted_at = $3 AND id COLLATE "C" > $4))
       ORDER BY emitted_at ASC, id COLLATE "C" ASC LIMIT $5`,
      [this.appId, code, after.emittedAt, after.id, limit],
      'listEventsAfter',
    )
    return rows.map((r) => ({
      id: r.id,
      code: r.code,
      payload: r.payload,
      emittedAt: storedNumber(r.emitted_at, `event ${r.id}`),
    }))
  }

  async purge(): Promise<void> {
    const s = this.s
    await this.query(
      `WITH a AS (DELETE FROM ${s}.triggers WHERE app_id = $1),
            e AS (DELETE FROM ${s}.trigger_events WHERE app_id = $1),
            b AS (DELETE FROM ${s}.valid_conditions WHERE app_id = $1),
            c AS (DELETE FROM ${s}.cron_executions WHERE app_id = $1)
       DELETE FROM ${s}.trigger_runs WHERE app_id = $1`,
      [this.appId],
      'purge trigger store',
    )
  }
}
