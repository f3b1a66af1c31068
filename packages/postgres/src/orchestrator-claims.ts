import type { ClaimOutcome, TransitionOutcome, TransitionRequest } from '@nenc/core'
import type { AheadClaim } from './claim-ahead.js'
import { type RecordColumns, recordOf, type StateRow, stateOf } from './orchestrator-rows.js'
import { claimNextSql, claimSql } from './orchestrator-sql.js'
import type { PostgresConnection } from './postgres-connection.js'
import { RULES, STATUS_SETS } from './status-rules.js'

/** Targets that end a run on the runner: what its finish batches write. */
const ENDS_A_RUN = new Set<string>([...STATUS_SETS.final, 'retry'])

/** What the claim statements need from their orchestrator. */
export interface ClaimsContext {
  appId(): string
  connection: PostgresConnection
  finalChannel(): string
  query<R>(sql: string, values: readonly unknown[], what: string): Promise<R[]>
  transition(requests: readonly TransitionRequest[]): Promise<TransitionOutcome[]>
  waitsMayExist(): boolean
}

/**
 * The orchestrator's claim statements: the claim function for given ids, `claim_next` for the
 * next queued ids of the process's runner (claim-ahead.ts), and the release of claims made ahead
 * that nobody took.
 */
export class OrchestratorClaims {
  constructor(private readonly ctx: ClaimsContext) {}

  /** Claims `ids` for `runnerId` in one round trip. */
  claim(ids: readonly string[], runnerId: string): Promise<AheadClaim[]> {
    return this.rows(claimSql(this.ctx.connection.s), ids, runnerId)
  }

  /** Runs the claim function (`ids`) or claim_next (a count); records are read ahead when linked. */
  private async rows(sql: string, ids: readonly string[] | number, runnerId: string): Promise<AheadClaim[]> {
    const link = this.ctx.connection.link
    const readAhead = link.linked(this.ctx.appId())
    const rows = await this.ctx.query<StateRow & RecordColumns & { outcome: ClaimOutcome['outcome'] }>(
      sql,
      [
        this.ctx.appId(),
        ids,
        runnerId,
        STATUS_SETS.available,
        STATUS_SETS.active,
        STATUS_SETS.final,
        RULES.keys,
        RULES.modes,
        this.ctx.finalChannel(),
        `${this.ctx.connection.schema}/${this.ctx.appId()}/`,
        this.ctx.connection.intermediateCommit,
        readAhead,
      ],
      typeof ids === 'number' ? 'claim next' : 'claim',
    )
    return rows.map((row): AheadClaim => {
      if (row.outcome !== 'claimed') return { id: row.id, outcome: { id: row.id, outcome: row.outcome } }
      if (readAhead && row.task_name !== null) link.prefetch(this.ctx.appId(), recordOf(row))
      const state = stateOf(row, `invocation ${row.id}`)
      return { id: row.id, outcome: { id: row.id, outcome: 'claimed', state } }
    })
  }

  /**
   * The runner to claim next ids for along with these transitions: all by the process's one
   * runner (claim-ahead.ts), all ending a run (a final status or RETRY: the runner's finish
   * batch, whose slots free up — not a stop's KILLED/REROUTED), and no blocking-control edge that
   * should go first.
   */
  claimAheadFor(requests: readonly TransitionRequest[]): string | null {
    const actor = requests[0]?.actor ?? null
    if (!this.ctx.connection.link.ahead.mayClaimFor(this.ctx.appId(), actor)) return null
    const ending = requests.every((r) => r.actor === actor && ENDS_A_RUN.has(r.to))
    return ending && !this.ctx.waitsMayExist() ? actor : null
  }

  claimNext(runnerId: string, max: number): Promise<AheadClaim[]> {
    return this.rows(claimNextSql(this.ctx.connection.s), max, runnerId)
  }

  /** Claims made ahead that the runner never took: back to REROUTED; returns the ids to queue again. */
  async release(runnerId: string, claims: AheadClaim[]): Promise<string[]> {
    const back = claims.filter((c) => c.outcome.outcome === 'claimed' || c.outcome.outcome === 'controlled')
    const deferred = claims.filter((c) => c.outcome.outcome === 'deferred').map((c) => c.id)
    const out = back.length
      ? await this.ctx.transition(back.map((c) => ({ id: c.id, to: 'rerouted' as const, actor: runnerId })))
      : []
    return [...back.filter((_, i) => out[i]!.ok).map((c) => c.id), ...deferred]
  }
}
