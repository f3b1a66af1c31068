import { CorruptDataError } from '../errors.js'
import type { Backend } from '../interfaces/backend.js'
import type {
  ClaimBatch,
  ClaimedInvocation,
  FinalRead,
  FinishRequest,
  FinishResult,
  FusedSteps,
} from '../interfaces/fused-steps.js'
import type { InvocationState, RegisterRequest, RegisterResult } from '../interfaces/orchestrator.js'
import type { InvocationRecord } from '../interfaces/state-backend.js'
import { isFinal } from '../invocation/status.js'

/**
 * Claimed states with their records, in one read. A record the backend cannot read must fail
 * its own invocation, not the batch: rerouting the batch would claim the same corrupt record
 * again, for ever. So when the batch read reports corrupt data, each record is read alone (one
 * extra round trip per id, only in that case) and the unreadable ones carry their error.
 */
export async function withRecords(
  backend: Pick<Backend, 'stateBackend'>,
  states: readonly InvocationState[],
): Promise<ClaimedInvocation[]> {
  if (states.length === 0) return []
  const { stateBackend } = backend
  let records: (InvocationRecord | CorruptDataError | null)[]
  try {
    records = await stateBackend.getInvocations(states.map((s) => s.id))
  } catch (err) {
    if (!(err instanceof CorruptDataError)) throw err
    records = await Promise.all(
      states.map(async (s) => {
        try {
          return (await stateBackend.getInvocations([s.id]))[0] ?? null
        } catch (e) {
          if (e instanceof CorruptDataError) return e
          throw e
        }
      }),
    )
  }
  return states.map((state, i) => {
    const r = records[i]
    return r instanceof CorruptDataError
      ? { state, record: null, recordError: r }
      : { state, record: r ?? null }
  })
}

/** Shared by every empty answer: frozen, so no caller can add to another's batch. */
const EMPTY: ClaimBatch = Object.freeze({
  claimed: Object.freeze([]) as unknown as ClaimedInvocation[],
  unclaimed: Object.freeze([]) as unknown as ClaimBatch['unclaimed'],
  sawQueued: false,
})

/**
 * The steps of {@link FusedSteps} built from the five components, one component call after the
 * other: what every backend gets without fused steps, what a mixed backend runs, and the
 * definition the fused forms are checked against.
 */
export function composedSteps(backend: Backend): FusedSteps {
  const { broker, orchestrator, stateBackend } = backend

  const claimIds = async (
    runnerId: string,
    ids: readonly string[],
    sawQueued: boolean,
  ): Promise<ClaimBatch> => {
    if (ids.length === 0) return { ...EMPTY, sawQueued }
    const out = await orchestrator.claim(ids, runnerId)
    const batch: ClaimBatch = { claimed: [], unclaimed: [], sawQueued }
    const states = []
    for (const o of out) {
      if (o.outcome === 'claimed') states.push(o.state)
      else batch.unclaimed.push(o)
    }
    try {
      batch.claimed = await withRecords(backend, states)
    } catch (err) {
      // All or nothing, as a fused step is: claims whose records could not be read are given
      // back (PENDING → REROUTED, queued again) before the error reaches the runner. If even
      // that fails, PENDING recovery reroutes them.
      const out = await orchestrator
        .transition(
          states.map((st) => ({ id: st.id, to: 'rerouted' as const, actor: runnerId, attempt: st.attempt })),
        )
        .catch(() => [])
      const back = states.filter((_, i) => out[i]?.ok).map((st) => st.id)
      if (back.length) await broker.route(back).catch(() => {})
      throw err
    }
    return batch
  }

  /** PENDING → RUNNING of what a claim step took, fenced by each new attempt; refusals are dropped. */
  const startClaimed = async (runnerId: string, batch: ClaimBatch): Promise<ClaimBatch> => {
    if (batch.claimed.length === 0) return batch
    const out = await orchestrator.transition(
      batch.claimed.map((c) => ({
        id: c.state.id,
        to: 'running' as const,
        actor: runnerId,
        attempt: c.state.attempt,
      })),
    )
    const started: ClaimedInvocation[] = []
    batch.claimed.forEach((c, i) => {
      const o = out[i]!
      if (o.ok) started.push({ ...c, state: o.state })
      else batch.unclaimed.push({ id: c.state.id, outcome: 'skipped' })
    })
    return { ...batch, claimed: started }
  }

  const claimQueued = async (runnerId: string, max: number, start = false): Promise<ClaimBatch> => {
    if (max <= 0) return EMPTY
    const queued = await broker.retrieve(max)
    if (queued.length === 0) return EMPTY
    const batch = await claimIds(runnerId, [...new Set(queued)], true)
    return start ? startClaimed(runnerId, batch) : batch
  }

  return {
    builtOver: { broker, orchestrator, stateBackend },

    async route(
      records: readonly InvocationRecord[],
      requests: readonly RegisterRequest[],
    ): Promise<RegisterResult[]> {
      // Records first: an id a runner can see always has its record (one orphaned by a reuse is harmless).
      await stateBackend.upsertInvocations(records)
      const results = await orchestrator.register(requests)
      const fresh = results.filter((r) => !r.reused).map((r) => r.id)
      if (fresh.length) await broker.route(fresh)
      return results
    },

    claimQueued,

    claimIds: (runnerId, ids) => claimIds(runnerId, ids, false),

    async finish(
      runnerId: string,
      items: readonly FinishRequest[],
      claimNext: number,
      start = false,
    ): Promise<FinishResult> {
      const outcomes = items.flatMap((i) =>
        i.outcome ? [{ id: i.id, attempt: i.attempt, outcome: i.outcome }] : [],
      )
      // Write-once under the attempt, before the fenced transition: a final status always has its
      // outcome, and a stale attempt's outcome is stored where no reader looks.
      if (outcomes.length) await stateBackend.setOutcomes(outcomes)
      const results = await orchestrator.transition(
        items.map((i) => ({ id: i.id, to: i.to, actor: runnerId, attempt: i.attempt })),
      )
      const retryByDelay = new Map<number, string[]>()
      items.forEach((item, i) => {
        if (item.to !== 'retry' || !results[i]!.ok) return
        const d = item.delayMs ?? 0
        const list = retryByDelay.get(d)
        if (list) list.push(item.id)
        else retryByDelay.set(d, [item.id])
      })
      for (const [delayMs, ids] of retryByDelay) await broker.route(ids, { delayMs })
      const next = claimNext > 0 ? await claimQueued(runnerId, claimNext, start) : EMPTY
      return { outcomes: results, next }
    },

    async readFinal(ids: readonly string[]): Promise<FinalRead[]> {
      if (ids.length === 0) return []
      const states = await orchestrator.getStates(ids)
      const refs = states.flatMap((s) => (s && isFinal(s.status) ? [{ id: s.id, attempt: s.attempt }] : []))
      const outcomes = refs.length ? await stateBackend.getOutcomes(refs) : []
      const byId = new Map(refs.map((r, i) => [r.id, outcomes[i] ?? null]))
      return states.map((state) => ({ state, outcome: state ? (byId.get(state.id) ?? null) : null }))
    },
  }
}

const composedCache = new WeakMap<Backend, FusedSteps>()

/**
 * The steps core runs on: the backend's fused steps while they are built over the backend's own
 * components, otherwise (none, or a mixed backend) the composed ones.
 */
export function stepsOf(backend: Backend): FusedSteps {
  const fused = backend.steps
  if (
    fused &&
    fused.builtOver.broker === backend.broker &&
    fused.builtOver.orchestrator === backend.orchestrator &&
    fused.builtOver.stateBackend === backend.stateBackend
  )
    return fused
  let composed = composedCache.get(backend)
  if (!composed) composedCache.set(backend, (composed = composedSteps(backend)))
  return composed
}
