import type { ClaimOutcome, TransitionOutcome, TransitionRequest } from '@nenc/core'
import type { Job, ReadDoc } from './guarded-write.js'
import { claimDecision, planTransition } from './queries/invocations.js'
import { ParkSequence } from './queries/parking.js'

/** What applied transitions leave for after the batch: finals to announce, edges to release. */
export interface Aftermath {
  finals: string[]
  releaseEdges: string[]
}

/** A running key given up by the applied transition of request `at` (it left the active statuses). */
export interface FreedKey {
  at: number
  key: string
}

/** An invocation a claim (request `at`) parked on `key` with sequence `parked`. */
export interface ParkedClaim {
  at: number
  id: string
  key: string
  parked: number
}

/** What one wave of jobs leaves for the end of that wave: keys to release, parks to check. */
export interface WaveAftermath {
  freed: FreedKey[]
  parked: ParkedClaim[]
}

export const waveAftermath = (): WaveAftermath => ({ freed: [], parked: [] })

/**
 * One `transition()` request as a job: validate with `checkTransition` against the current
 * document (fenced by the request's attempt), then compare-and-set. The compare includes the
 * attempt, so a claim between the read and the write makes the write lose; the re-validation
 * against the fresh document then answers `stale` and writes nothing. A PENDING whose running-concurrency slot is held by another
 * invocation is still applied, without taking the slot: concurrency is decided by `claim()`,
 * and the memory backend's `transition()` does not check it either. An applied transition that
 * leaves the active statuses reports its running key in `wave.freed` (request index `at`): the
 * wave's end releases the oldest invocation parked on it.
 */
export function transitionJob(
  req: TransitionRequest,
  after: Aftermath,
  wave: WaveAftermath = waveAftermath(),
  at = 0,
): Job<TransitionOutcome> {
  let takeSlot = true
  return {
    id: req.id,
    step(doc, op) {
      if (!doc) return { done: { ok: false, reason: 'not_found' } }
      const plan = planTransition(doc, req.to, req.actor, Date.now(), op, takeSlot, req.attempt)
      if (!plan.ok) return { done: plan }
      return {
        write: plan.write,
        applied: () => {
          if (plan.final) after.finals.push(req.id)
          if (plan.releasesEdges) after.releaseEdges.push(req.id)
          if (plan.leavesKey !== null) wave.freed.push({ at, key: plan.leavesKey })
          return { ok: true, state: plan.next }
        },
        duplicate: () => {
          takeSlot = false
        },
      }
    },
  }
}

/**
 * One id of a `claim()` as a job, following memory's rules ({@link claimDecision}). The running-
 * concurrency check is the PENDING write itself: it takes the slot through a unique index, so a
 * duplicate-key answer means another active invocation holds it, and the next step moves this
 * one to a controlled status (its own guarded write). CONCURRENCY_CONTROLLED parks it on the key
 * in that same write (a `parked` sequence from `sequence`), reported in `wave.parked` so the
 * wave's end can check the key was not freed meanwhile. A lost race re-evaluates from scratch.
 */
export function claimJob(
  id: string,
  runnerId: string,
  after: Aftermath,
  wave: WaveAftermath = waveAftermath(),
  at = 0,
  sequence: ParkSequence = new ParkSequence(),
): Job<ClaimOutcome> {
  let slotHeld = false
  return {
    id,
    step(doc, op) {
      const decision = claimDecision(doc, slotHeld)
      if (decision.action === 'skip') return { done: { id, outcome: 'skipped' } }
      if (decision.action === 'defer') return { done: { id, outcome: 'deferred' } }
      const now = Date.now()
      const parks = decision.to === 'concurrency_controlled' && doc!.runningKey !== null
      const parked = parks ? sequence.next(now) : null
      const plan = planTransition(doc!, decision.to, runnerId, now, op, true, null, parked)
      // Unreachable for statuses available for run with a runner id; kept as "nothing changed".
      if (!plan.ok) return { done: { id, outcome: 'skipped' } }
      return {
        write: plan.write,
        applied: (): ClaimOutcome => {
          if (plan.final) after.finals.push(id)
          if (plan.releasesEdges) after.releaseEdges.push(id)
          if (decision.to === 'pending') return { id, outcome: 'claimed', state: plan.next }
          if (parked !== null) wave.parked.push({ at, id, key: doc!.runningKey!, parked })
          return { id, outcome: decision.to === 'concurrency_controlled' ? 'controlled' : 'controlled_final' }
        },
        duplicate: () => {
          slotHeld = true
        },
        lost: () => {
          slotHeld = false
        },
      }
    },
  }
}

/**
 * Splits a batch into waves that touch each document (and, for claims, each running key) at
 * most once, keeping request order: requests for the same id, or ids sharing a running key, run
 * in later waves so an earlier one's outcome is seen by the later ones, as in memory.
 */
export function waves(ids: readonly string[], keyOf: (id: string) => string | null = () => null): number[][] {
  const out: number[][] = []
  const lastById = new Map<string, number>()
  const lastByKey = new Map<string, number>()
  ids.forEach((id, i) => {
    const key = keyOf(id)
    const wave = Math.max(lastById.get(id) ?? -1, key === null ? -1 : (lastByKey.get(key) ?? -1)) + 1
    lastById.set(id, wave)
    if (key !== null) lastByKey.set(key, wave)
    ;(out[wave] ??= []).push(i)
  })
  return out
}

/** The running key of a read document (none for unknown or corrupt ones). */
export function runningKeyOf(docs: Map<string, ReadDoc>): (id: string) => string | null {
  return (id) => {
    const d = docs.get(id)
    return d && !(d instanceof Error) ? d.runningKey : null
  }
}
