import {
  BackendError,
  type ClaimBatch,
  type ClaimedInvocation,
  type ClaimOutcome,
  CorruptDataError,
  type Outcome,
  type TransitionOutcome,
  type TransitionRequest,
} from '@nenc/core'
import { type RecordColumns, recordOf, rounds, type StateRow, stateOf } from './orchestrator-rows.js'
import { claimNextSql, claimSql, finishSql, transitionSql } from './orchestrator-sql.js'
import { BACKEND } from './pg-errors.js'
import type { PostgresConnection } from './postgres-connection.js'
import { CLAIM_TARGETS, rejection, rulesFor, STATUS_SETS } from './status-rules.js'

/** A row of the claim function (records null unless asked for, or when none is stored). */
export type ClaimRow = StateRow & RecordColumns & { ord: string | number; outcome: ClaimOutcome['outcome'] }

/**
 * A row of the transition function: a request's (`released` null, in request order), or, after
 * them, an id the request at position `ord` (1-based) released from its running key.
 */
export type TransitionRow = StateRow & {
  ord: string | number
  ok: boolean
  found: boolean
  released: string | null
}

/** A transition with what the fused finish writes beside it. */
export interface TransitionItem extends TransitionRequest {
  /** Stored under (id, attempt) only when the transition is accepted. */
  outcome?: Outcome
  /** An accepted RETRY is queued again after this delay (ms). */
  delayMs?: number
}

/** What the claim and transition statements need from their orchestrator. */
export interface StatementContext {
  appId(): string
  connection: PostgresConnection
  channel(kind: 'final' | 'queue'): string
  query<R>(sql: string, values: readonly unknown[], what: string): Promise<R[]>
}

/** Claim outcomes in row order (the component's `claim()`). */
export function claimOutcomes(rows: readonly ClaimRow[]): ClaimOutcome[] {
  return rows.map((row): ClaimOutcome => {
    if (row.outcome !== 'claimed') return { id: row.id, outcome: row.outcome }
    return { id: row.id, outcome: 'claimed', state: stateOf(row, `invocation ${row.id}`) }
  })
}

/**
 * A claim batch with records (the fused claim steps). A record that cannot be decoded fails its
 * own invocation (`recordError`), not the batch. `dropRepeats`: an id popped twice from the queue
 * counts once, as the composed step dedupes what `retrieve()` returned before claiming.
 */
export function claimBatch(rows: readonly ClaimRow[], sawQueued: boolean, dropRepeats: boolean): ClaimBatch {
  const batch: ClaimBatch = { claimed: [], unclaimed: [], sawQueued }
  const seen = new Set<string>()
  for (const row of rows) {
    if (dropRepeats) {
      if (seen.has(row.id)) continue
      seen.add(row.id)
    }
    if (row.outcome !== 'claimed') {
      batch.unclaimed.push({ id: row.id, outcome: row.outcome })
      continue
    }
    const state = stateOf(row, `invocation ${row.id}`)
    let claimed: ClaimedInvocation
    if (row.task_name === null) claimed = { state, record: null }
    else {
      try {
        claimed = { state, record: recordOf(row) }
      } catch (err) {
        if (!(err instanceof CorruptDataError)) throw err
        claimed = { state, record: null, recordError: err }
      }
    }
    batch.claimed.push(claimed)
  }
  return batch
}

/** The commit mode of a transition batch (exported for finish): final statuses are acknowledged to waiters. */
export function commitFor(ctx: StatementContext, items: readonly TransitionRequest[]): 'off' | null {
  return items.some((t) => (STATUS_SETS.final as readonly string[]).includes(t.to))
    ? null
    : ctx.connection.intermediateCommit
}

/** The claim function's arguments after the ids (or count); `start`: claims move on to RUNNING. */
function claimArgs(ctx: StatementContext, runnerId: string, records: boolean, start: boolean): unknown[] {
  const rules = rulesFor(CLAIM_TARGETS)
  return [
    runnerId,
    STATUS_SETS.available,
    STATUS_SETS.active,
    STATUS_SETS.final,
    rules.keys,
    rules.modes,
    ctx.channel('final'),
    `${ctx.connection.schema}/${ctx.appId()}/`,
    ctx.connection.intermediateCommit,
    records,
    start,
  ]
}

/** Claims `ids` for `runnerId` in one round trip (with their records when `records`). */
export function claimRows(
  ctx: StatementContext,
  ids: readonly string[],
  runnerId: string,
  records: boolean,
): Promise<ClaimRow[]> {
  return ctx.query(
    claimSql(ctx.connection.s),
    [ctx.appId(), ids, ...claimArgs(ctx, runnerId, records, false)],
    'claim',
  )
}

/**
 * Pops up to `max` due ids and claims them for `runnerId`, with records, in one round trip; with
 * `start` each claim moves on to RUNNING in the same statement (a refused start is `skipped`).
 */
export function claimNextRows(
  ctx: StatementContext,
  runnerId: string,
  max: number,
  start = false,
): Promise<ClaimRow[]> {
  return ctx.query(
    claimNextSql(ctx.connection.s),
    [ctx.appId(), Math.floor(max), ...claimArgs(ctx, runnerId, true, start)],
    'claim next',
  )
}

/**
 * The parameters of the transition function after the app id, and of the finish function's
 * transition part: ids, targets, (actors,) attempts, outcome kinds and values, RETRY delays.
 */
export function transitionArrays(items: readonly TransitionItem[]) {
  return {
    ids: items.map((t) => t.id),
    to: items.map((t) => t.to),
    actors: items.map((t) => t.actor),
    attempts: items.map((t) => t.attempt ?? null),
    kinds: items.map((t) => t.outcome?.kind ?? null),
    values: items.map((t) => t.outcome?.value ?? null),
    delays: items.map((t) =>
      t.to === 'retry' && t.delayMs !== undefined ? Math.max(0, Math.ceil(t.delayMs)) : null,
    ),
  }
}

/**
 * A row of the finish function: a transition (`t`, ord = request position), an id one released
 * (`r`, ord = that transition, `id` the released id) or a claim (`c`).
 */
export type FinishRow = ClaimRow & { step: 't' | 'r' | 'c'; ok: boolean | null; found: boolean | null }

/**
 * Runs the finish function: `items` (distinct ids, actor `runnerId`) as the transition function
 * does, then claim_next for `runnerId` up to `max` (0: none; `start`: started), one round trip.
 */
export function finishRows(
  ctx: StatementContext,
  runnerId: string,
  items: readonly TransitionItem[],
  max: number,
  start = false,
): Promise<FinishRow[]> {
  const a = transitionArrays(items)
  const rules = rulesFor([...a.to, ...CLAIM_TARGETS])
  return ctx.query(
    finishSql(ctx.connection.s),
    [
      ctx.appId(),
      runnerId,
      a.ids,
      a.to,
      a.attempts,
      a.kinds,
      a.values,
      a.delays,
      STATUS_SETS.available,
      STATUS_SETS.active,
      STATUS_SETS.final,
      rules.keys,
      rules.modes,
      ctx.channel('final'),
      ctx.channel('queue'),
      `${ctx.connection.schema}/${ctx.appId()}/`,
      commitFor(ctx, items),
      max,
      start,
    ],
    'finish',
  )
}

/** Runs the transition function on one batch of distinct ids. */
export function transitionRows(
  ctx: StatementContext,
  items: readonly TransitionItem[],
): Promise<TransitionRow[]> {
  const a = transitionArrays(items)
  const rules = rulesFor(a.to)
  return ctx.query(
    transitionSql(ctx.connection.s),
    [
      ctx.appId(),
      a.ids,
      a.to,
      a.actors,
      a.attempts,
      a.kinds,
      a.values,
      a.delays,
      rules.keys,
      rules.modes,
      STATUS_SETS.active,
      STATUS_SETS.final,
      ctx.channel('final'),
      ctx.channel('queue'),
      `${ctx.connection.schema}/${ctx.appId()}/`,
      commitFor(ctx, items),
      true,
    ],
    'transition',
  )
}

/**
 * Applies transitions in rounds of distinct ids (a repeated id waits for the next round), each
 * round one statement run by `run` (the requests' rows in request order, then the released
 * ones). A refusal core would accept means the record changed under the statement: those are
 * applied again. Released ids go to the outcome of the transition that released them.
 */
export async function applyTransitions(
  items: readonly TransitionItem[],
  run: (batch: readonly TransitionItem[]) => Promise<TransitionRow[]>,
): Promise<TransitionOutcome[]> {
  const out: TransitionOutcome[] = new Array(items.length)
  for (const round of rounds(items)) {
    let todo = round
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt === 5) throw new BackendError(BACKEND, 'transition() kept losing races')
      const rows = await run(todo.map((t) => t.item))
      const own: TransitionRow[] = []
      const released = new Map<number, string[]>()
      for (const row of rows) {
        if (row.released === null || row.released === undefined) own.push(row)
        else {
          const at = Number(row.ord) - 1
          const ids = released.get(at)
          if (ids) ids.push(row.released)
          else released.set(at, [row.released])
        }
      }
      const again: typeof todo = []
      own.forEach((row, i) => {
        const { item, index } = todo[i]!
        if (!row.found) {
          out[index] = { ok: false, reason: 'not_found' }
          return
        }
        const current = stateOf({ ...row, id: item.id }, `invocation ${item.id}`)
        if (row.ok) {
          const woken = released.get(i)
          out[index] = woken ? { ok: true, state: current, released: woken } : { ok: true, state: current }
          return
        }
        const refused = rejection(current, item.to, item.actor, item.attempt)
        if (refused) out[index] = refused
        else again.push(todo[i]!)
      })
      todo = again
    }
  }
  return out
}
