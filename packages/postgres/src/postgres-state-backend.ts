import {
  CoalescingNotifier,
  CorruptDataError,
  checkRecordQuery,
  type InvocationPage,
  type InvocationRecord,
  latestProgress,
  type Outcome,
  type OutcomeRef,
  type ProgressRecord,
  type RecordPageQuery,
  type RunnerContextRecord,
  type StateBackend,
  type Unsubscribe,
} from '@nenc/core'
import { asyncCommit, channelName } from './identifiers.js'
import { keysetTail, pageOfRows, Where } from './listing-sql.js'
import { recordArrays, traceContextOf } from './orchestrator-rows.js'
import { BACKEND } from './pg-errors.js'
import { PostgresComponent } from './postgres-component.js'
import { deleteRowsOfIds, rowsOfIds } from './rows-of-ids.js'
import { storedNumber } from './status-rules.js'

interface RecordRow {
  id: string
  task_id: string
  task_name: string
  call_id: string
  args: string
  parent_id: string | null
  workflow_id: string
  workflow_type: string
  parent_workflow_id: string | null
  created_at: string
  run_at: string | null
  trace_context: string | null
}

/** A stored outcome row, checked: an unknown kind is `CorruptDataError`. */
export function decodeOutcome(r: { kind: string; value: string }, id: string): Outcome {
  if (r.kind !== 'result' && r.kind !== 'error') {
    throw new CorruptDataError(BACKEND, `outcome of ${id}`, `kind "${r.kind}" is neither result nor error`)
  }
  return { kind: r.kind, value: r.value }
}

/** Last write wins within one batch, as a sequence of single writes would leave it. */
export function lastById<T>(items: readonly T[], id: (item: T) => string): T[] {
  const byId = new Map<string, T>()
  for (const item of items) byId.set(id(item), item)
  return [...byId.values()]
}

/**
 * Invocation records, outcomes, workflow data and runner contexts in tables keyed by
 * (app_id, …). Batch methods are one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE` or
 * one lookup per id through the primary key. Outcomes are keyed by (id, attempt) and written
 * once. (The backend's fused steps read records with claims and write outcomes with the final
 * transitions; see postgres-steps.ts.)
 */
export class PostgresStateBackend extends PostgresComponent implements StateBackend {
  /** Subscribers of `subscribeProgress`, fed by one LISTEN (see there). */
  private readonly progressListeners = new Set<(records: ProgressRecord[]) => void>()
  private readonly progressIds = new CoalescingNotifier<string>()
  private progressFeed: Promise<() => Promise<void>> | null = null

  async upsertInvocations(records: readonly InvocationRecord[]): Promise<void> {
    if (records.length === 0) return
    const rs = lastById(records, (r) => r.id)
    await this.query(
      `INSERT INTO ${this.s}.invocation_records AS t
         (app_id, id, task_id, task_name, call_id, args, parent_id, workflow_id, workflow_type,
          parent_workflow_id, created_at, trace_context, run_at)
       SELECT $1, x.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                 $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[], $14::bigint[]) AS x
       CROSS JOIN (SELECT ${asyncCommit('$13')}) sc
       ON CONFLICT (app_id, id) DO UPDATE SET
         task_id = EXCLUDED.task_id, task_name = EXCLUDED.task_name, call_id = EXCLUDED.call_id,
         args = EXCLUDED.args, parent_id = EXCLUDED.parent_id, workflow_id = EXCLUDED.workflow_id,
         workflow_type = EXCLUDED.workflow_type, parent_workflow_id = EXCLUDED.parent_workflow_id,
         created_at = EXCLUDED.created_at, trace_context = EXCLUDED.trace_context, run_at = EXCLUDED.run_at`,
      [
        this.appId,
        ...recordArrays(rs),
        this.connection.intermediateCommit, // register() and route() follow; route() flushes
        // Only scheduled calls have one, and they are routed through this method (never the fused route).
        rs.map((r) => r.runAt ?? null),
      ],
      'upsertInvocations',
    )
  }

  async getInvocations(ids: readonly string[]): Promise<(InvocationRecord | null)[]> {
    if (ids.length === 0) return []
    const rows = await this.query<RecordRow>(
      `SELECT r.id, r.task_id, r.task_name, r.call_id, r.args, r.parent_id, r.workflow_id, r.workflow_type,
              r.parent_workflow_id, r.created_at, r.run_at, r.trace_context
       FROM unnest($2::text[]) AS x(id)
       CROSS JOIN LATERAL (SELECT * FROM ${this.s}.invocation_records r WHERE r.app_id = $1 AND r.id = x.id OFFSET 0) r`,
      [this.appId, ids],
      'getInvocations',
    )
    const read = new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          taskId: r.task_id,
          taskName: r.task_name,
          callId: r.call_id,
          args: r.args,
          parentId: r.parent_id,
          workflow: { id: r.workflow_id, type: r.workflow_type, parentWorkflowId: r.parent_workflow_id },
          createdAt: storedNumber(r.created_at, `invocation record ${r.id}`),
          ...(r.run_at == null ? {} : { runAt: storedNumber(r.run_at, `invocation record ${r.id}`) }),
          ...traceContextOf(r.trace_context, `invocation record ${r.id}`),
        },
      ]),
    )
    return ids.map((id) => read.get(id) ?? null)
  }

  async getChildInvocations(parentId: string): Promise<string[]> {
    const rows = await this.query<{ id: string }>(
      `SELECT id FROM ${this.s}.invocation_records WHERE app_id = $1 AND parent_id = $2 ORDER BY seq`,
      [this.appId, parentId],
      'getChildInvocations',
    )
    return rows.map((r) => r.id)
  }

  /** Records and outcomes in one statement (a child's row leaving is its removal from the parent's children). */
  async deleteInvocations(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    await this.query(
      `WITH ids AS (SELECT DISTINCT x.id FROM unnest($2::text[]) AS x(id)),
            recs AS (${deleteRowsOfIds(this.s, 'invocation_records', 'id', 'ids', '$1')}),
            prog AS (${deleteRowsOfIds(this.s, 'progress', 'id', 'ids', '$1')}),
            fins AS (UPDATE ${this.s}.invocations i SET final_kind = NULL, final_value = NULL
                     FROM (${rowsOfIds(this.s, 'invocations', 'id', 'ids', '$1')}) d
                     WHERE i.ctid = d.tid AND i.final_kind IS NOT NULL)
       ${deleteRowsOfIds(this.s, 'outcomes', 'id', 'ids', '$1')}`,
      [this.appId, [...new Set(ids)]],
      'deleteInvocations',
    )
  }

  /**
   * A keyset range on the parent index, or on the workflow index (both `…, created_at, id`,
   * read backward). The workflow index holds a workflow's invocations other than its root (see the
   * migration), so a workflow's page merges that range with the root, read by its key.
   */
  async listInvocationRecords(q: RecordPageQuery): Promise<InvocationPage> {
    checkRecordQuery(q)
    const where = new Where([this.appId]).add(() => 'app_id = $1')
    let wf = ''
    if (q.workflowId !== undefined) wf = `$${where.values.push(q.workflowId)}`
    else where.add((p) => `parent_id = ${p(q.parentId)}`)
    const { tail, limit } = keysetTail(where, q)
    const sql = wf
      ? `SELECT id, created_at FROM (
           (SELECT id, created_at FROM ${this.s}.invocation_records
            WHERE ${where} AND workflow_id = ${wf} AND workflow_id <> id ${tail})
           UNION ALL
           (SELECT id, created_at FROM ${this.s}.invocation_records
            WHERE ${where} AND id = ${wf} AND workflow_id = ${wf})
         ) x ${tail}`
      : `SELECT id, created_at FROM ${this.s}.invocation_records WHERE ${where} ${tail}`
    const rows = await this.query<{ id: string; created_at: string }>(
      sql,
      where.values,
      'listInvocationRecords',
    )
    return pageOfRows(rows, limit)
  }

  /**
   * Inserts under (id, attempt) with ON CONFLICT DO NOTHING: the first outcome of an attempt is
   * kept (also within one batch). Commits without waiting for the WAL flush (option
   * `synchronousCommit: 'acknowledged'`): the final transition that follows flushes it.
   */
  async setOutcomes(items: readonly (OutcomeRef & { outcome: Outcome })[]): Promise<void> {
    if (items.length === 0) return
    await this.query(
      `INSERT INTO ${this.s}.outcomes (app_id, id, attempt, kind, value)
       SELECT $1, x.* FROM unnest($2::text[], $3::integer[], $4::text[], $5::text[]) AS x
       CROSS JOIN (SELECT ${asyncCommit('$6')}) sc
       ON CONFLICT DO NOTHING`,
      [
        this.appId,
        items.map((i) => i.id),
        items.map((i) => i.attempt),
        items.map((i) => i.outcome.kind),
        items.map((i) => i.outcome.value),
        this.connection.intermediateCommit,
      ],
      'setOutcomes',
    )
  }

  async getOutcomes(refs: readonly OutcomeRef[]): Promise<(Outcome | null)[]> {
    if (refs.length === 0) return []
    const rows = await this.query<{ ord: string; kind: string; value: string }>(
      // The fused finish keeps a final outcome in the invocation's row (see migration 1); every
      // other outcome is an `outcomes` row.
      `SELECT x.ord, coalesce(f.kind, o.kind) AS kind, coalesce(f.value, o.value) AS value
       FROM unnest($2::text[], $3::integer[]) WITH ORDINALITY AS x(id, attempt, ord)
       LEFT JOIN LATERAL (SELECT i.final_kind AS kind, i.final_value AS value FROM ${this.s}.invocations i
                          WHERE i.app_id = $1 AND i.id = x.id AND i.attempt = x.attempt
                            AND i.final_kind IS NOT NULL OFFSET 0) f ON true
       LEFT JOIN LATERAL (SELECT o.kind, o.value FROM ${this.s}.outcomes o
                          WHERE f.kind IS NULL AND o.app_id = $1 AND o.id = x.id AND o.attempt = x.attempt
                          OFFSET 0) o ON true
       WHERE coalesce(f.kind, o.kind) IS NOT NULL`,
      [this.appId, refs.map((r) => r.id), refs.map((r) => r.attempt)],
      'getOutcomes',
    )
    const byOrd = new Map(rows.map((r) => [Number(r.ord), r]))
    return refs.map((ref, i) => {
      const r = byOrd.get(i + 1)
      return r ? decodeOutcome(r, ref.id) : null
    })
  }

  async getWorkflowData(workflowId: string, key: string): Promise<string | null> {
    const [row] = await this.query<{ value: string }>(
      `SELECT value FROM ${this.s}.workflow_data WHERE app_id = $1 AND workflow_id = $2 AND key = $3`,
      [this.appId, workflowId, key],
      'getWorkflowData',
    )
    return row?.value ?? null
  }

  async setWorkflowData(workflowId: string, key: string, value: string): Promise<void> {
    await this.query(
      `INSERT INTO ${this.s}.workflow_data (app_id, workflow_id, key, value) VALUES ($1, $2, $3, $4)
       ON CONFLICT (app_id, workflow_id, key) DO UPDATE SET value = EXCLUDED.value`,
      [this.appId, workflowId, key, value],
      'setWorkflowData',
    )
  }

  async storeRunnerContext(ctx: RunnerContextRecord): Promise<void> {
    await this.query(
      `INSERT INTO ${this.s}.runner_contexts
         (app_id, runner_id, runner_class, parent_runner_id, pid, hostname, started_at, slots)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (app_id, runner_id) DO UPDATE SET
         runner_class = EXCLUDED.runner_class, parent_runner_id = EXCLUDED.parent_runner_id,
         pid = EXCLUDED.pid, hostname = EXCLUDED.hostname, started_at = EXCLUDED.started_at,
         slots = EXCLUDED.slots`,
      [
        this.appId,
        ctx.runnerId,
        ctx.runnerClass,
        ctx.parentRunnerId,
        ctx.pid,
        ctx.hostname,
        ctx.startedAt,
        ctx.slots ?? null,
      ],
      'storeRunnerContext',
    )
  }

  async getRunnerContext(runnerId: string): Promise<RunnerContextRecord | null> {
    const [r] = await this.query<{
      runner_class: string
      parent_runner_id: string | null
      pid: number
      hostname: string
      started_at: string
      slots: number | null
    }>(
      `SELECT runner_class, parent_runner_id, pid, hostname, started_at, slots FROM ${this.s}.runner_contexts
       WHERE app_id = $1 AND runner_id = $2`,
      [this.appId, runnerId],
      'getRunnerContext',
    )
    if (!r) return null
    return {
      runnerId,
      runnerClass: r.runner_class,
      parentRunnerId: r.parent_runner_id,
      pid: r.pid,
      hostname: r.hostname,
      startedAt: storedNumber(r.started_at, `runner context ${runnerId}`),
      ...(r.slots === null ? {} : { slots: r.slots }),
    }
  }

  /**
   * One statement: upserts each record unless a higher attempt's is stored, and NOTIFYs the id of
   * each stored one (the payload stays far below NOTIFY's 8,000-byte limit; subscribers read the
   * value). Ids repeated in the batch keep the last record of the highest attempt.
   */
  async setProgress(items: readonly ProgressRecord[]): Promise<void> {
    if (items.length === 0) return
    const list = latestProgress(items)
    await this.query(
      `WITH sc AS (SELECT ${asyncCommit('$7')}),
       up AS (
         INSERT INTO ${this.s}.progress AS p (app_id, id, attempt, updated_at, value)
         SELECT $1, x.* FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::text[]) AS x
         CROSS JOIN sc
         ON CONFLICT (app_id, id) DO UPDATE
           SET attempt = EXCLUDED.attempt, updated_at = EXCLUDED.updated_at, value = EXCLUDED.value
           WHERE p.attempt <= EXCLUDED.attempt
         RETURNING p.id)
       SELECT pg_notify($6, up.id) FROM up`,
      [
        this.appId,
        list.map((i) => i.id),
        list.map((i) => i.attempt),
        list.map((i) => i.updatedAt),
        list.map((i) => i.value),
        channelName(this.connection.schema, this.appId, 'progress'),
        this.connection.intermediateCommit,
      ],
      'setProgress',
    )
  }

  async getProgress(ids: readonly string[]): Promise<(ProgressRecord | null)[]> {
    if (ids.length === 0) return []
    const rows = await this.query<{ id: string; attempt: number; updated_at: string; value: string }>(
      `SELECT p.id, p.attempt, p.updated_at, p.value FROM ${this.s}.progress p
       WHERE p.app_id = $1 AND p.id = ANY($2::text[])`,
      [this.appId, ids],
      'getProgress',
    )
    const byId = new Map(rows.map((r) => [r.id, r]))
    return ids.map((id) => {
      const r = byId.get(id)
      return r
        ? {
            id,
            attempt: r.attempt,
            updatedAt: storedNumber(r.updated_at, `progress of ${id}`),
            value: r.value,
          }
        : null
    })
  }

  /**
   * LISTENs on the app's progress channel (payload: an id) once for all subscribers: the ids
   * notified in one event-loop turn are read back in one query and every subscriber hears the
   * records, so a report costs one read however many callers follow progress.
   */
  async subscribeProgress(listener: (records: ProgressRecord[]) => void): Promise<Unsubscribe> {
    this.progressListeners.add(listener)
    try {
      await (this.progressFeed ??= this.startProgressFeed())
    } catch (err) {
      this.progressListeners.delete(listener)
      if (this.progressListeners.size === 0) this.progressFeed = null
      throw err
    }
    return async () => {
      if (!this.progressListeners.delete(listener) || this.progressListeners.size > 0) return
      const feed = this.progressFeed
      this.progressFeed = null
      if (feed) await (await feed)()
    }
  }

  private async startProgressFeed(): Promise<() => Promise<void>> {
    const removeBatch = this.progressIds.add((ids) => {
      this.getProgress([...new Set(ids)]).then(
        (records) => {
          const found = records.filter((r): r is ProgressRecord => r !== null)
          if (found.length) for (const l of this.progressListeners) l(found)
        },
        () => {}, // a failed read drops these reports; the next ones are pushed again
      )
    })
    try {
      const stop = await this.connection.listener.listen(
        channelName(this.connection.schema, this.appId, 'progress'),
        (id) => this.progressIds.emit([id]),
      )
      return async () => {
        removeBatch()
        await stop()
      }
    } catch (err) {
      removeBatch()
      throw err
    }
  }

  async purge(): Promise<void> {
    const s = this.s
    await this.query(
      `WITH a AS (DELETE FROM ${s}.invocation_records WHERE app_id = $1),
            b AS (DELETE FROM ${s}.outcomes WHERE app_id = $1),
            c AS (DELETE FROM ${s}.workflow_data WHERE app_id = $1),
            d AS (DELETE FROM ${s}.progress WHERE app_id = $1),
            -- the final outcomes the fused finish kept in invocation rows are this component's data
            e AS (UPDATE ${s}.invocations i SET final_kind = NULL, final_value = NULL
                  WHERE i.app_id = $1 AND i.final_kind IS NOT NULL)
       DELETE FROM ${s}.runner_contexts WHERE app_id = $1`,
      [this.appId],
      'purge state backend',
    )
  }
}
