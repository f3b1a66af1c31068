import {
  type ClaimBatch,
  type FinalRead,
  type FinishRequest,
  type FinishResult,
  type FusedSteps,
  type InvocationRecord,
  isFinal,
  type RegisterRequest,
  type RegisterResult,
} from '@nenc/core'
import {
  applyTransitions,
  claimBatch,
  claimNextRows,
  claimRows,
  type FinishRow,
  finishRows,
  type TransitionItem,
  transitionRows,
} from './orchestrator-claims.js'
import { type StateRow, stateOf } from './orchestrator-rows.js'
import { readFinalSql } from './orchestrator-sql.js'
import type { PostgresBroker } from './postgres-broker.js'
import type { PostgresOrchestrator } from './postgres-orchestrator.js'
import { decodeOutcome, lastById, type PostgresStateBackend } from './postgres-state-backend.js'
import { STATUS_SETS } from './status-rules.js'

const EMPTY: ClaimBatch = { claimed: [], unclaimed: [], sawQueued: false }
const empty = (): ClaimBatch => ({ claimed: [], unclaimed: [], sawQueued: false })

/**
 * The fused steps over one `postgresBackend()`'s own broker, orchestrator and state backend
 * (they share one connection, schema and app). Each step is one statement — one round trip and
 * one transaction — meaning exactly its composed form (core's `composedSteps`):
 *
 * - `route`: the register statement also upserts the records and queues the ids not reused.
 * - `claimQueued`: `claim_next` pops and claims, returning the claimed records; with `start` the
 *   same statement moves each claim on to RUNNING (one row update, both history entries).
 * - `claimIds`: the claim function with records.
 * - `finish`: the `finish` function — fenced transitions whose outcomes are inserted (write-once)
 *   only when accepted, accepted RETRYs queued after their delay, the ids the ends release from
 *   their running keys (in `outcomes[i].released`), then claim_next's pop and claim for the
 *   runner (starting what it claims with `start`). Its notifications carry the small outcomes it
 *   stored, so a caller's waiter needs no read for them (`subscribeFinal`).
 * - `readFinal`: states joined with the outcome of each final state's attempt.
 *
 * Extra round trips only in rare cases: a registration racing a concurrent one, a transition
 * racing a concurrent change (both asked again, as the components do), and a finish batch naming
 * one id twice (transitions in rounds, then the claim).
 */
export function postgresSteps(parts: {
  broker: PostgresBroker
  orchestrator: PostgresOrchestrator
  stateBackend: PostgresStateBackend
}): FusedSteps {
  const { broker, orchestrator, stateBackend } = parts
  const ctx = orchestrator.statements

  const claimQueued = async (runnerId: string, max: number, start = false): Promise<ClaimBatch> => {
    if (Math.floor(max) <= 0) return EMPTY
    const rows = await claimNextRows(ctx, runnerId, max, start)
    return rows.length ? claimBatch(rows, true, true) : empty()
  }

  return {
    builtOver: { broker, orchestrator, stateBackend },

    async route(
      records: readonly InvocationRecord[],
      requests: readonly RegisterRequest[],
    ): Promise<RegisterResult[]> {
      if (requests.length === 0) {
        await stateBackend.upsertInvocations(records)
        return []
      }
      const results = await orchestrator.registerWith(
        requests,
        lastById(records, (r) => r.id),
      )
      if (results.some((r) => !r.reused)) broker.routed(0)
      return results
    },

    claimQueued,

    async claimIds(runnerId: string, ids: readonly string[]): Promise<ClaimBatch> {
      if (ids.length === 0) return empty()
      return claimBatch(await claimRows(ctx, ids, runnerId, true), false, false)
    },

    async finish(
      runnerId: string,
      items: readonly FinishRequest[],
      claimNext: number,
      start = false,
    ): Promise<FinishResult> {
      const max = Math.max(0, Math.floor(claimNext))
      if (items.length === 0) return { outcomes: [], next: await claimQueued(runnerId, max, start) }
      const requests: TransitionItem[] = items.map((i) => ({
        id: i.id,
        to: i.to,
        actor: runnerId,
        attempt: i.attempt,
        ...(i.outcome ? { outcome: i.outcome } : {}),
        ...(i.to === 'retry' ? { delayMs: i.delayMs ?? 0 } : {}),
      }))
      // The claim rides with the first statement unless an id repeats (transitions in rounds).
      let fuse = new Set(items.map((i) => i.id)).size === items.length
      let next: ClaimBatch | null = null
      const outcomes = await applyTransitions(requests, async (batch) => {
        if (!fuse) return transitionRows(ctx, batch)
        fuse = false
        const rows = await finishRows(ctx, runnerId, batch, max, start)
        const byOrd = (a: FinishRow, b: FinishRow) => Number(a.ord) - Number(b.ord)
        const claims = rows.filter((r) => r.step === 'c').sort(byOrd)
        next = claims.length ? claimBatch(claims, true, true) : empty()
        const own = rows
          .filter((r) => r.step === 't')
          .sort(byOrd)
          .map((r) => ({ ...r, ok: r.ok === true, found: r.found === true, released: null }))
        const woken = rows
          .filter((r) => r.step === 'r')
          .map((r) => ({ ...r, ok: true, found: true, released: r.id }))
        return [...own, ...woken]
      })
      next ??= await claimQueued(runnerId, max, start)
      const delays = new Set<number>()
      requests.forEach((r, i) => {
        if (r.delayMs !== undefined && outcomes[i]!.ok) delays.add(Math.max(0, Math.ceil(r.delayMs)))
      })
      for (const d of delays) broker.routed(d)
      return { outcomes, next }
    },

    async readFinal(ids: readonly string[]): Promise<FinalRead[]> {
      if (ids.length === 0) return []
      const rows = await ctx.query<StateRow & { kind: string | null; value: string | null }>(
        readFinalSql(ctx.connection.s),
        [ctx.appId(), ids, STATUS_SETS.final],
        'readFinal',
      )
      const byId = new Map(rows.map((r) => [r.id, r]))
      return ids.map((id) => {
        const row = byId.get(id)
        if (!row) return { state: null, outcome: null }
        const state = stateOf(row, `invocation ${id}`)
        const outcome =
          isFinal(state.status) && row.kind !== null
            ? decodeOutcome({ kind: row.kind, value: row.value ?? '' }, id)
            : null
        return { state, outcome }
      })
    },
  }
}
