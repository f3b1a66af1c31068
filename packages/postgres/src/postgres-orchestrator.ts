import {
  ACTIVE_STATUSES,
  BackendError,
  type ClaimOutcome,
  type FinalOutcomes,
  type HistoryEntry,
  INITIAL_STATUS,
  type InvocationCount,
  type InvocationCountQuery,
  type InvocationPage,
  type InvocationPageQuery,
  type InvocationRecord,
  type InvocationState,
  type InvocationStatus,
  type ListInvocationsQuery,
  type Orchestrator,
  type RegisterRequest,
  type RegisterResult,
  type RunnerHeartbeat,
  readFinalNotification,
  type TransitionOutcome,
  type TransitionRequest,
  type Unsubscribe,
  WaitsTracker,
} from '@nenc/core'
import { decodeHistory } from './history-entry.js'
import { asyncCommit, channelName } from './identifiers.js'
import { filterConditions, keysetTail, pageOfRows, Where } from './listing-sql.js'
import {
  applyTransitions,
  claimOutcomes,
  claimRows,
  type StatementContext,
  transitionRows,
} from './orchestrator-claims.js'
import { recordArrays, type StateRow, stateOf } from './orchestrator-rows.js'
import { blockingSql, purgeFinishedSql, registerSql } from './orchestrator-sql.js'
import { BACKEND } from './pg-errors.js'
import { PostgresComponent } from './postgres-component.js'
import { decodeOutcome } from './postgres-state-backend.js'
import { deleteRowsOfIds, rowsOfIds } from './rows-of-ids.js'
import { STATUS_SETS, storedNumber, storedStatus } from './status-rules.js'

/**
 * The orchestrator on PostgreSQL. Every batch method is one statement (one round trip): claims
 * run the `claim` function (FOR UPDATE SKIP LOCKED plus advisory locks per running key),
 * transitions a compare-and-set UPDATE that prepends their history entry, final statuses release blocking
 * edges and NOTIFY `subscribeFinal` listeners in the same statement. A claim blocked by a running
 * key parks the id on it; the transition that frees the key releases the oldest (`released`). The status rules come from
 * core's table (see status-rules.ts). A claim (→ PENDING) starts the next attempt; a transition
 * that names an attempt is refused as `stale`, writing nothing, once the stored attempt differs.
 */
export class PostgresOrchestrator extends PostgresComponent implements Orchestrator {
  readonly capabilities = { pushedFinalNotifications: true }
  private readonly waits = new WaitsTracker((onEdge) =>
    this.connection.listener.listen(this.channel('waits'), onEdge, onEdge),
  )
  /** What the claim, transition and fused statements need (orchestrator-claims.ts, postgres-steps.ts). */
  readonly statements: StatementContext = {
    appId: () => this.appId,
    connection: this.connection,
    channel: (kind) => this.channel(kind),
    query: (sql, values, what) => this.query(sql, values, what),
  }

  private channel(kind: 'final' | 'waits' | 'queue'): string {
    return channelName(this.connection.schema, this.appId, kind)
  }

  register(requests: readonly RegisterRequest[]): Promise<RegisterResult[]> {
    return this.registerWith(requests, null)
  }

  /**
   * register(), or with `records` the fused `route` step: the same statement also upserts the
   * records and queues every request not reused (see `registerSql`).
   * @internal
   */
  async registerWith(
    requests: readonly RegisterRequest[],
    records: readonly InvocationRecord[] | null,
  ): Promise<RegisterResult[]> {
    const results: RegisterResult[] = new Array(requests.length)
    let pending = requests.map((r, index) => ({ r, index }))
    let recs = records
    // A request none of created/exists/holder resolves met a concurrent insert its snapshot
    // could not see; asking again (new snapshot) settles it.
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === 5) throw new BackendError(BACKEND, 'register() kept racing concurrent registrations')
      const batch = pending.map((p) => p.r)
      const values: unknown[] = [
        this.appId,
        batch.map((r) => r.id),
        batch.map((r) => r.taskId),
        batch.map((r) => r.callId),
        batch.map((r) => r.actor),
        batch.map((r) => r.registrationKey),
        batch.map((r) => r.runningKey),
        batch.map((r) => r.rerouteOnConcurrencyControl),
        INITIAL_STATUS,
        // register(): route() follows and flushes; the fused route is the durable step itself.
        recs ? null : this.connection.intermediateCommit,
      ]
      if (recs) {
        const rs = recs
        values.push(...recordArrays(rs), this.channel('queue'))
        recs = [] // written with the first round
      }
      const rows = await this.query<{ created: boolean; id_exists: boolean; holder: string | null }>(
        registerSql(this.s, records !== null),
        values,
        records ? 'route' : 'register',
      )
      const again: typeof pending = []
      rows.forEach((row, i) => {
        const { r, index } = pending[i]!
        if (row.created || row.id_exists) results[index] = { id: r.id, reused: false }
        else if (row.holder !== null) results[index] = { id: r.id, reused: true, existingId: row.holder }
        else again.push(pending[i]!)
      })
      pending = again
    }
    return results
  }

  transition(requests: readonly TransitionRequest[]): Promise<TransitionOutcome[]> {
    return applyTransitions(requests, (batch) => transitionRows(this.statements, batch))
  }

  async claim(ids: readonly string[], runnerId: string): Promise<ClaimOutcome[]> {
    if (ids.length === 0) return []
    return claimOutcomes(await claimRows(this.statements, ids, runnerId, false))
  }

  async getStates(ids: readonly string[]): Promise<(InvocationState | null)[]> {
    if (ids.length === 0) return []
    const rows = await this.query<StateRow>(
      `SELECT i.id, i.task_id, i.status, i.owner, i.status_ts AS ts, i.retries, i.attempt
       FROM unnest($2::text[]) AS x(id)
       CROSS JOIN LATERAL (SELECT * FROM ${this.s}.invocations i WHERE i.app_id = $1 AND i.id = x.id OFFSET 0) i`,
      [this.appId, ids],
      'getStates',
    )
    const byId = new Map(rows.map((r) => [r.id, r]))
    return ids.map((id) => {
      const row = byId.get(id)
      return row ? stateOf(row, `invocation ${id}`) : null
    })
  }

  async getHistory(id: string): Promise<HistoryEntry[]> {
    const [row] = await this.query<{ history: string }>(
      `SELECT history FROM ${this.s}.invocations WHERE app_id = $1 AND id = $2`,
      [this.appId, id],
      'getHistory',
    )
    return row ? decodeHistory(row.history, id) : []
  }

  async listInvocations(q: ListInvocationsQuery): Promise<string[]> {
    const values: unknown[] = [this.appId]
    const where = ['app_id = $1']
    if (q.taskId) where.push(`task_id = $${values.push(q.taskId)}`)
    if (q.statuses) where.push(`status = ANY($${values.push([...q.statuses])}::text[])`)
    const limit = `$${values.push(q.limit ?? 100)}`
    const offset = `$${values.push(q.offset ?? 0)}`
    const rows = await this.query<{ id: string }>(
      `SELECT id FROM ${this.source(q.statuses)} WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}`,
      values,
      'listInvocations',
    )
    return rows.map((r) => r.id)
  }

  /** A keyset range on the creation-time indexes (with or without a task); statuses filter rows. */
  async pageInvocations(q: InvocationPageQuery): Promise<InvocationPage> {
    const where = filterConditions(
      new Where([this.appId]).add(() => 'app_id = $1'),
      q,
    )
    const { tail, limit } = keysetTail(where, q)
    if (q.statuses?.length === 0) return { ids: [], next: null }
    const rows = await this.query<{ id: string; created_at: string }>(
      `SELECT id, created_at FROM ${this.source(q.statuses)} WHERE ${where} ${tail}`,
      where.values,
      'pageInvocations',
    )
    return pageOfRows(rows, limit)
  }

  /**
   * The rows a listing reads: the app's invocations, or — when every status asked for is an
   * active one (the runners' audit, "what is running now") — only those the `active` table
   * names, reached by key. No index holds the status (see the migration), so a listing of
   * active invocations would otherwise walk the app's whole creation-time index.
   */
  private source(statuses: readonly InvocationStatus[] | undefined): string {
    if (!statuses?.length || !statuses.every((st) => ACTIVE_STATUSES.includes(st)))
      return `${this.s}.invocations`
    return `(SELECT i.* FROM ${this.s}.active a
              CROSS JOIN LATERAL (SELECT * FROM ${this.s}.invocations i
                                  WHERE i.app_id = a.app_id AND i.id = a.id OFFSET 0) i
              WHERE a.app_id = $1 OFFSET 0) AS invocations`
  }

  async countInvocations(q: InvocationCountQuery): Promise<InvocationCount[]> {
    const where = filterConditions(
      new Where([this.appId]).add(() => 'app_id = $1'),
      q,
    )
    const rows = await this.query<{ task_id: string; status: string; n: string }>(
      `SELECT task_id, status, count(*) AS n FROM ${this.s}.invocations WHERE ${where} GROUP BY task_id, status`,
      where.values,
      'countInvocations',
    )
    return rows.map((r) => ({
      taskId: r.task_id,
      status: storedStatus(r.status, `invocations of ${r.task_id}`),
      count: storedNumber(r.n, `count of ${r.task_id}`),
    }))
  }

  /** One statement: the final rows (their history with them) and any blocking edge naming them. */
  async deleteFinalInvocations(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return []
    const rows = await this.query<{ id: string }>(
      `WITH ids AS (SELECT DISTINCT x.id FROM unnest($2::text[]) AS x(id)),
       gone AS (
         DELETE FROM ${this.s}.invocations i USING (${rowsOfIds(this.s, 'invocations', 'id', 'ids', '$1')}) d
         WHERE i.ctid = d.tid AND i.status = ANY($3::text[])
         RETURNING i.id
       ),
       -- An edge between two ids of the batch is found by both deletes; the second skips it.
       waiting AS (${deleteRowsOfIds(this.s, 'waits', 'waiter_id', 'gone', '$1')}),
       waited AS (${deleteRowsOfIds(this.s, 'waits', 'waited_id', 'gone', '$1')})
       SELECT id FROM gone`,
      [this.appId, [...new Set(ids)], STATUS_SETS.final],
      'deleteFinalInvocations',
    )
    return rows.map((r) => r.id)
  }

  async addWaiting(waiterId: string, waitedIds: readonly string[]): Promise<void> {
    if (waitedIds.length === 0) return
    this.waits.edgeAdded()
    await this.query(
      `WITH ins AS (
         INSERT INTO ${this.s}.waits (app_id, waiter_id, waited_id)
         SELECT $1, $2, i.id
         FROM unnest($3::text[]) AS x(id)
         CROSS JOIN LATERAL (SELECT i.id, i.status FROM ${this.s}.invocations i
                             WHERE i.app_id = $1 AND i.id = x.id OFFSET 0) i
         CROSS JOIN (SELECT ${asyncCommit('$5')}) sc
         WHERE NOT (i.status = ANY($4::text[]))
         ON CONFLICT DO NOTHING
         RETURNING 1
       )
       SELECT pg_notify($6, '') FROM (SELECT 1 FROM ins LIMIT 1) announced`,
      [
        this.appId,
        waiterId,
        waitedIds,
        STATUS_SETS.final,
        this.connection.intermediateCommit,
        this.channel('waits'),
      ],
      'addWaiting',
    )
  }

  /** Skips its round trip while no blocking edge exists anywhere in the app (core's WaitsTracker). */
  async getBlockingInvocations(max: number): Promise<string[]> {
    if (max <= 0 || !this.waits.mayExist()) return []
    const epoch = this.waits.epoch
    const [row] = await this.query<{ ids: string[]; any_edge: boolean }>(
      blockingSql(this.s),
      [this.appId, STATUS_SETS.available, STATUS_SETS.final, max],
      'getBlockingInvocations',
    )
    if (row && !row.any_edge) this.waits.sawNone(epoch)
    return row?.ids ?? []
  }

  async heartbeat(runnerIds: readonly string[], canRunAtomicService: boolean): Promise<void> {
    if (runnerIds.length === 0) return
    await this.query(
      `INSERT INTO ${this.s}.runners AS r (app_id, runner_id, created_at, last_heartbeat, can_run_atomic_service)
       SELECT $1, x.id, now.ms, now.ms, $3
       FROM unnest($2::text[]) AS x(id)
       CROSS JOIN (SELECT ${this.s}.now_ms() AS ms, ${asyncCommit('$4')} AS sc) now
       ON CONFLICT (app_id, runner_id) DO UPDATE
       SET last_heartbeat = EXCLUDED.last_heartbeat, can_run_atomic_service = EXCLUDED.can_run_atomic_service`,
      [this.appId, [...new Set(runnerIds)], canRunAtomicService, this.connection.intermediateCommit],
      'heartbeat',
    )
  }

  async getActiveRunners(timeoutMs: number): Promise<RunnerHeartbeat[]> {
    const rows = await this.query<{
      runner_id: string
      created_at: string
      last_heartbeat: string
      can: boolean
    }>(
      `SELECT runner_id, created_at, last_heartbeat, can_run_atomic_service AS can FROM ${this.s}.runners
       WHERE app_id = $1 AND last_heartbeat >= (SELECT ${this.s}.now_ms()) - $2
       ORDER BY created_at, runner_id`,
      [this.appId, timeoutMs],
      'getActiveRunners',
    )
    return rows.map((r) => ({
      runnerId: r.runner_id,
      createdAt: storedNumber(r.created_at, `runner ${r.runner_id}`),
      lastHeartbeat: storedNumber(r.last_heartbeat, `runner ${r.runner_id}`),
      canRunAtomicService: r.can,
    }))
  }

  async getPendingForRecovery(olderThanMs: number, limit: number): Promise<string[]> {
    const rows = await this.query<{ id: string }>(
      // Driven by the active rows (OFFSET 0: never by walking the app's invocations in order).
      `SELECT x.id FROM (
         SELECT i.id, i.created_at FROM ${this.s}.active a
         CROSS JOIN LATERAL (SELECT i.id, i.created_at, i.status, i.status_ts FROM ${this.s}.invocations i
                             WHERE i.app_id = a.app_id AND i.id = a.id OFFSET 0) i
         WHERE a.app_id = $1 AND i.status = 'pending' AND i.status_ts < (SELECT ${this.s}.now_ms()) - $2
         OFFSET 0) x
       ORDER BY x.created_at, x.id LIMIT $3`,
      [this.appId, olderThanMs, limit],
      'getPendingForRecovery',
    )
    return rows.map((r) => r.id)
  }

  async getRunningForRecovery(deadAfterMs: number, limit: number): Promise<string[]> {
    const rows = await this.query<{ id: string }>(
      `SELECT x.id FROM (
         SELECT i.id, i.created_at FROM ${this.s}.active a
         CROSS JOIN LATERAL (SELECT i.id, i.created_at, i.status, i.owner FROM ${this.s}.invocations i
                             WHERE i.app_id = a.app_id AND i.id = a.id OFFSET 0) i
         LEFT JOIN ${this.s}.runners r ON r.app_id = a.app_id AND r.runner_id = i.owner
         WHERE a.app_id = $1 AND i.status IN ('running', 'paused', 'resumed')
           AND (r.runner_id IS NULL OR r.last_heartbeat < (SELECT ${this.s}.now_ms()) - $2)
         OFFSET 0) x
       ORDER BY x.created_at, x.id LIMIT $3`,
      [this.appId, deadAfterMs, limit],
      'getRunningForRecovery',
    )
    return rows.map((r) => r.id)
  }

  /**
   * Listens on the app's final channel (NOTIFYed by the transition and claim functions). An entry
   * is an id, or `[id, kind, value]` when the transition stored that small outcome with the final
   * status (the fused finish): passed on as {@link FinalOutcomes}, so the waiter needs no read.
   */
  async subscribeFinal(listener: (ids: string[], outcomes?: FinalOutcomes) => void): Promise<Unsubscribe> {
    return this.connection.listener.listen(this.channel('final'), (payload) => {
      // A foreign NOTIFY on a hashed channel name is ignored.
      const read = readFinalNotification(payload, (e) =>
        typeof e[1] === 'string' && typeof e[2] === 'string'
          ? decodeOutcome({ kind: e[1], value: e[2] }, String(e[0]))
          : null,
      )
      if (read) listener(read.ids, read.outcomes)
    })
  }

  /**
   * Retention: deletes up to `batchSize` finished invocations at a time (SUCCESS, FAILED,
   * CONCURRENCY_CONTROLLED_FINAL) whose final status is older than `olderThanMs`, with their
   * history, blocking edges, state-backend record and outcomes, until none is left. Returns how
   * many were deleted. An explicit bulk delete in one statement per batch: unlike core's
   * retention sweep (config `retention.finishedMs`, `app.purgeFinished`) it does not keep the
   * finished children of a running parent, so it is for operators who know no workflow is running.
   */
  async purgeFinishedBefore(olderThanMs: number, batchSize = 5000): Promise<number> {
    let total = 0
    for (;;) {
      const [row] = await this.query<{ n: number }>(
        purgeFinishedSql(this.s),
        [this.appId, STATUS_SETS.final, olderThanMs, batchSize],
        'purgeFinishedBefore',
      )
      total += row?.n ?? 0
      if ((row?.n ?? 0) < batchSize) return total
    }
  }

  async purge(): Promise<void> {
    const s = this.s
    await this.query(
      // The final outcomes the fused finish kept in the rows are the state backend's data: they
      // move to its table, so purging the orchestrator alone leaves every outcome readable.
      `WITH kept AS (INSERT INTO ${s}.outcomes (app_id, id, attempt, kind, value)
                     SELECT i.app_id, i.id, i.attempt, i.final_kind, i.final_value FROM ${s}.invocations i
                     WHERE i.app_id = $1 AND i.final_kind IS NOT NULL
                     ON CONFLICT DO NOTHING),
            a AS (DELETE FROM ${s}.invocations WHERE app_id = $1),
            c AS (DELETE FROM ${s}.waits WHERE app_id = $1),
            d AS (DELETE FROM ${s}.active WHERE app_id = $1)
       DELETE FROM ${s}.runners WHERE app_id = $1`,
      [this.appId],
      'purge orchestrator',
    )
  }

  protected override async onClose(): Promise<void> {
    await this.waits.close()
  }
}
