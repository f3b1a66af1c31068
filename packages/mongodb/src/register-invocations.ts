import { BackendError, type RegisterRequest, type RegisterResult } from '@nenc/core'
import { type Collection, MongoBulkWriteError } from 'mongodb'
import type { InvocationDoc } from './documents.js'
import { newOpToken } from './names.js'
import { newInvocationDoc, registeredByKeyFilter } from './queries/invocations.js'
import { BACKEND, DUPLICATE_KEY, duplicateKeyIndex, writeErrorsOf } from './translate-error.js'

/** Insert rounds: a key whose holder left REGISTERED between the conflict and the look-up is retried. */
const MAX_ROUNDS = 8

/**
 * How the requests of one batch relate before anything is written: a repeated id is reported as
 * not reused (like a repeat call); a repeated registration key follows the first request that
 * carries it; the rest are inserted.
 */
export function planRegistration(requests: readonly RegisterRequest[]): {
  insert: number[]
  repeatedIds: number[]
  followers: { index: number; leader: number }[]
} {
  const ids = new Set<string>()
  const keyLeader = new Map<string, number>()
  const insert: number[] = []
  const repeatedIds: number[] = []
  const followers: { index: number; leader: number }[] = []
  requests.forEach((r, i) => {
    if (ids.has(r.id)) {
      repeatedIds.push(i)
      return
    }
    ids.add(r.id)
    const key = r.registrationKey
    if (key !== null) {
      const leader = keyLeader.get(key)
      if (leader !== undefined) {
        followers.push({ index: i, leader })
        return
      }
      keyLeader.set(key, i)
    }
    insert.push(i)
  })
  return { insert, repeatedIds, followers }
}

/**
 * `Orchestrator.register` on one collection. New invocations go out in one unordered
 * `insertMany`; the server's unique indexes decide the rest: a duplicate `_id` is an existing
 * invocation (kept, not reused), a duplicate on `nenc_registration_key` means a REGISTERED
 * invocation holds the key, looked up in one query and reported as reused (if it left
 * REGISTERED meanwhile, the insert is tried again).
 */
export async function registerInvocations(
  coll: Collection<InvocationDoc>,
  requests: readonly RegisterRequest[],
  now: number,
): Promise<RegisterResult[]> {
  const results = new Array<RegisterResult>(requests.length)
  const { insert, repeatedIds, followers } = planRegistration(requests)
  for (const i of repeatedIds) results[i] = { id: requests[i]!.id, reused: false }
  const preExisting = new Set<number>()

  const insertAll = async (indices: number[]) => {
    let attempt = indices
    for (let round = 0; attempt.length > 0; round++) {
      if (round >= MAX_ROUNDS) {
        throw new BackendError(
          BACKEND,
          `could not register ${attempt.length} invocation(s): registration keys kept changing hands.`,
        )
      }
      const conflicts: number[] = []
      const failed = new Map<number, number>()
      try {
        await coll.insertMany(
          attempt.map((i) => newInvocationDoc(requests[i]!, now, newOpToken())),
          { ordered: false },
        )
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError)) throw err
        const errors = writeErrorsOf(err)
        if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err
        for (const e of errors) failed.set(e.index, attempt[e.index]!)
        for (const e of errors) {
          const i = attempt[e.index]!
          // The message names the index; `_id_` is an id that exists already. Anything else
          // (our registration index, or a server whose message we cannot read) is resolved by
          // the look-up below, which checks both the id and the key.
          if (duplicateKeyIndex(e) === '_id_') {
            preExisting.add(i)
            results[i] = { id: requests[i]!.id, reused: false }
          } else conflicts.push(i)
        }
      }
      attempt.forEach((i, pos) => {
        if (!failed.has(pos)) results[i] = { id: requests[i]!.id, reused: false }
      })
      if (conflicts.length === 0) return
      const keys = conflicts.flatMap((i) => requests[i]!.registrationKey ?? [])
      const found = await coll
        .find(
          { $or: [{ _id: { $in: conflicts.map((i) => requests[i]!.id) } }, registeredByKeyFilter(keys)] },
          { projection: { _id: 1, status: 1, registrationKey: 1 } },
        )
        .toArray()
      const existing = new Set(found.map((d) => d._id))
      const holderOf = new Map(
        found
          .filter((d) => d.status === 'registered' && d.registrationKey)
          .map((d) => [d.registrationKey!, d._id]),
      )
      const retry: number[] = []
      for (const i of conflicts) {
        const r = requests[i]!
        const holder = r.registrationKey === null ? undefined : holderOf.get(r.registrationKey)
        if (existing.has(r.id)) {
          preExisting.add(i)
          results[i] = { id: r.id, reused: false }
        } else if (holder !== undefined) results[i] = { id: r.id, reused: true, existingId: holder }
        else if (r.registrationKey === null)
          throw new BackendError(BACKEND, `registering ${r.id}: unexpected duplicate key`)
        else retry.push(i)
      }
      attempt = retry
    }
  }

  await insertAll(insert)
  // Followers reuse what their leader became; a leader that already existed decides nothing,
  // so its followers are registered like any request (the index finds the current holder).
  const independent: number[] = []
  for (const { index, leader } of followers) {
    const led = results[leader]!
    const id = requests[index]!.id
    if (preExisting.has(leader)) independent.push(index)
    else results[index] = { id, reused: true, existingId: led.reused ? led.existingId : led.id }
  }
  if (independent.length) await insertAll(independent)
  return results
}
