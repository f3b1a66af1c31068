import { BackendError, CorruptDataError } from '@nenc/core'
import { type Collection, MongoBulkWriteError, MongoServerError } from 'mongodb'
import { hasOp, type InvocationDoc } from './documents.js'
import type { GuardedUpdate } from './queries/invocations.js'
import { BACKEND, DUPLICATE_KEY, writeErrorsOf } from './translate-error.js'

/** A guarded update of one invocation document, tagged with the token its history entry carries. */
export interface GuardedWrite extends GuardedUpdate {
  id: string
  op: string
}

/**
 * `applied`: the document matched and was updated. `lost`: it no longer matched (another writer
 * won the race). `duplicate`: it matched but the update would take a unique key (a running-
 * concurrency slot) that another document holds.
 */
export type WriteOutcome = 'applied' | 'lost' | 'duplicate'

/**
 * Applies guarded writes to distinct documents in one round trip: one `findOneAndUpdate` for a
 * single write, else one unordered `bulkWrite`. The server reports how many bulk writes matched,
 * not which; when fewer matched than were sent, the documents are read back and a write counts
 * as applied when its token is in the history. Those documents are returned in `fresh` so the
 * caller re-validates lost writes without another read.
 */
export async function applyGuarded(
  coll: Collection<InvocationDoc>,
  writes: readonly GuardedWrite[],
): Promise<{ outcomes: WriteOutcome[]; fresh: Map<string, unknown> }> {
  const fresh = new Map<string, unknown>()
  if (writes.length === 1) {
    const w = writes[0]!
    try {
      const doc = await coll.findOneAndUpdate(w.filter, w.update, { projection: { _id: 1 } })
      return { outcomes: [doc ? 'applied' : 'lost'], fresh }
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY)
        return { outcomes: ['duplicate'], fresh }
      throw err
    }
  }
  const outcomes: WriteOutcome[] = writes.map(() => 'applied')
  let matched: number
  let duplicates = 0
  try {
    const res = await coll.bulkWrite(
      writes.map((w) => ({ updateOne: { filter: w.filter, update: w.update } })),
      { ordered: false },
    )
    matched = res.matchedCount
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err
    const errors = writeErrorsOf(err)
    const other = errors.find((e) => e.code !== DUPLICATE_KEY)
    if (other || errors.length === 0) throw err
    for (const e of errors) outcomes[e.index] = 'duplicate'
    duplicates = errors.length
    matched = err.result.matchedCount
  }
  if (matched === writes.length - duplicates) return { outcomes, fresh }
  const ambiguous = writes.filter((_, i) => outcomes[i] === 'applied')
  const docs = await coll.find({ _id: { $in: ambiguous.map((w) => w.id) } }).toArray()
  for (const d of docs) fresh.set(String(d._id), d)
  writes.forEach((w, i) => {
    if (outcomes[i] === 'applied' && !hasOp(fresh.get(w.id), w.op)) outcomes[i] = 'lost'
  })
  for (const w of ambiguous) if (!fresh.has(w.id)) fresh.set(w.id, null)
  return { outcomes, fresh }
}

/** The next thing a job does with its document: finish with a result, or attempt a write. */
export type Step<R> =
  | { done: R }
  | { write: GuardedUpdate; applied: () => R; duplicate?: () => void; lost?: () => void }

/** One invocation's read–validate–compare-and-set loop, re-run with the fresh document after a lost race. */
export interface Job<R> {
  id: string
  /** `op` is the token the step's history entry must carry (see {@link applyGuarded}). */
  step(doc: InvocationDoc | null, op: string): Step<R>
}

/** A document as read: decoded, unknown (null) or corrupt. */
export type ReadDoc = InvocationDoc | null | CorruptDataError

/** Lost races in a row after which a job gives up; each loss means another writer made progress. */
export const MAX_ROUNDS = 16

/**
 * Runs jobs on distinct documents round by round: every job proposes a step from its current
 * document, all writes of a round go out in one {@link applyGuarded} call, and jobs whose write
 * lost are re-validated against the re-read document in the next round. A corrupt document
 * fails only its own job; the others complete, then a {@link CorruptDataError} is thrown.
 */
export async function runJobs<R>(
  coll: Collection<InvocationDoc>,
  jobs: readonly Job<R>[],
  docs: Map<string, ReadDoc>,
  read: (ids: string[]) => Promise<Map<string, ReadDoc>>,
  decode: (raw: unknown, id: string) => ReadDoc,
  newOp: () => string,
): Promise<{ results: R[]; corrupt: CorruptDataError[] }> {
  const results = new Array<R>(jobs.length)
  const corrupt: CorruptDataError[] = []
  let active = jobs.map((job, index) => ({ job, index }))
  for (let round = 0; active.length > 0; round++) {
    if (round >= MAX_ROUNDS) {
      throw new BackendError(
        BACKEND,
        `gave up on ${active.length} invocation update(s) after ${MAX_ROUNDS} lost races in a row (ids: ${active
          .slice(0, 5)
          .map((a) => a.job.id)
          .join(', ')}); the documents are changing faster than they can be updated.`,
      )
    }
    if (round >= 3) await new Promise((r) => setTimeout(r, Math.random() * 5 * round))
    const writes: GuardedWrite[] = []
    const attempts: { job: Job<R>; index: number; step: Extract<Step<R>, { write: unknown }> }[] = []
    for (const a of active) {
      const doc = docs.get(a.job.id) ?? null
      if (doc instanceof CorruptDataError) {
        corrupt.push(doc)
        continue
      }
      const op = newOp()
      const step = a.job.step(doc, op)
      if ('done' in step) {
        results[a.index] = step.done
        continue
      }
      writes.push({ id: a.job.id, op, ...step.write })
      attempts.push({ ...a, step })
    }
    if (writes.length === 0) break
    const { outcomes, fresh } = await applyGuarded(coll, writes)
    const next: typeof active = []
    const reread: string[] = []
    outcomes.forEach((o, i) => {
      const a = attempts[i]!
      if (o === 'applied') results[a.index] = a.step.applied()
      else {
        if (o === 'duplicate') {
          if (!a.step.duplicate)
            throw new BackendError(BACKEND, `unexpected duplicate key updating ${a.job.id}`)
          a.step.duplicate()
        } else {
          a.step.lost?.()
          if (!fresh.has(a.job.id)) reread.push(a.job.id)
        }
        next.push({ job: a.job, index: a.index })
      }
    })
    for (const [id, raw] of fresh) docs.set(id, raw === null ? null : decode(raw, id))
    if (reread.length) for (const [id, d] of await read(reread)) docs.set(id, d)
    active = next
  }
  return { results, corrupt }
}
