import type { TransitionOutcome } from '@nenc/core'
import type { Collection } from 'mongodb'
import type { InvocationDoc } from './documents.js'
import { freeKeys, heldKeysFilter, UNPARK, unparkOldest, unparkOwnFilter } from './queries/parking.js'
import type { FreedKey, ParkedClaim } from './status-jobs.js'

/** Running keys among `keys` that no invocation holds as its slot now: one indexed read. */
async function freeNow(coll: Collection<InvocationDoc>, keys: readonly string[]): Promise<string[]> {
  const holders = await coll
    .find(heldKeysFilter([...new Set(keys)]), { projection: { _id: 0, activeKey: 1 } })
    .toArray()
  return freeKeys(keys, holders)
}

/**
 * The request of a wave that reports the release on `key`: the last one that gave the key up
 * (after it, no request of the wave holds the key any more).
 */
export function releaserOf(freed: readonly FreedKey[], key: string): number {
  for (let i = freed.length - 1; i >= 0; i--) if (freed[i]!.key === key) return freed[i]!.at
  return -1
}

/** Adds `released: [id]` to the outcome of request `at` (an applied transition). */
export function withReleased(outcome: TransitionOutcome, id: string): TransitionOutcome {
  return outcome.ok ? { ...outcome, released: [...(outcome.released ?? []), id] } : outcome
}

/**
 * End of a wave of transitions: for each running key the wave's applied transitions gave up
 * (left the active statuses) and that no invocation holds any more, the oldest invocation parked
 * on it is taken off the list — one atomic `findOneAndUpdate` per key — and reported in the
 * `released` of the last request that gave the key up, inside the same `transition()` step,
 * before its outcomes are returned. Without a transaction the transition and the release are
 * two single-document writes; a claim that parks concurrently checks the key after parking
 * ({@link recheckParked}), so one of the two always sees the other. Nothing is run when no
 * transition left a key (no running key: no extra command).
 */
export async function releaseFreedKeys(
  coll: Collection<InvocationDoc>,
  freed: readonly FreedKey[],
  results: TransitionOutcome[],
): Promise<void> {
  if (freed.length === 0) return
  const free = await freeNow(
    coll,
    freed.map((f) => f.key),
  )
  await Promise.all(
    free.map(async (key) => {
      const q = unparkOldest(key)
      const doc = await coll.findOneAndUpdate(q.filter, q.update, { sort: q.sort, projection: { _id: 1 } })
      if (!doc) return
      const at = releaserOf(freed, key)
      results[at] = withReleased(results[at]!, String(doc._id))
    }),
  )
}

/**
 * End of a wave of claims: a claim that parked an invocation checks that the key is still held.
 * When it is not, the holder may have left between the claim's duplicate-key answer and the
 * park, its release finding nothing parked yet: the claimer takes its own invocation back off
 * the list (guarded by its park sequence: when a releaser took it first, that releaser reports
 * it and this does nothing) and returns the ones it took back, for the caller to claim again.
 */
export async function recheckParked(
  coll: Collection<InvocationDoc>,
  parked: readonly ParkedClaim[],
): Promise<ParkedClaim[]> {
  if (parked.length === 0) return []
  const free = new Set(
    await freeNow(
      coll,
      parked.map((p) => p.key),
    ),
  )
  const candidates = parked.filter((p) => free.has(p.key))
  const taken = await Promise.all(
    candidates.map(
      async (p) => (await coll.updateOne(unparkOwnFilter(p.id, p.parked), UNPARK)).modifiedCount === 1,
    ),
  )
  return candidates.filter((_, i) => taken[i])
}

/** Parks re-checked this many times in one `claim()` stay parked: recovery re-offers them. */
export const MAX_RECLAIMS = 3
