import {
  AbortedError,
  BackendUnavailableError,
  InvocationNotFoundError,
  ResultTimeoutError,
} from '../errors.js'
import type { Unsubscribe } from '../interfaces/component.js'
import type { Orchestrator } from '../interfaces/orchestrator.js'
import type { Outcome } from '../interfaces/state-backend.js'
import { isFinal } from '../invocation/status.js'
import type { NencRuntime } from '../runtime.js'

/** Options of `result()` / `results()`. */
export interface ResultOptions {
  /**
   * Give up waiting after this many milliseconds and reject with `ResultTimeoutError`; the
   * invocation itself is untouched. Omitted: wait until the invocation is final.
   */
  timeoutMs?: number
}

function checkTimeout(timeoutMs: number | undefined): void {
  if (timeoutMs === undefined) return
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0)
    throw new RangeError(`result({ timeoutMs }) must be a finite number ≥ 0 (got ${String(timeoutMs)})`)
}

/**
 * The process-local cache of final statuses and the waits on it. One subscription per app to
 * the orchestrator's final-status notifications fills the cache; a wait resolves as soon as its
 * id is in it. A slow safety poll (`resultPollMs`) re-reads outstanding ids in one batch, so a
 * lost notification only delays a waiter, never strands it.
 */
/** One pending wait: resolves when `remaining` of its ids are final (1 for "any"). */
interface Wait {
  remaining: number
  resolve: () => void
  /** Ends the wait with an error (the backend stayed unavailable past the tolerance). */
  fail: (err: Error) => void
}

/**
 * Outcomes up to this many characters may travel with a final status (kept by the waiter,
 * carried by notifications); larger ones are always read from the state backend.
 */
export const MAX_INLINE_OUTCOME_CHARS = 2048

export class ResultWaiter {
  /** Ids known final, oldest first (see {@link markFinal}: the latest are in `unindexed`). */
  private readonly finals = new Set<string>()
  /** Batches of ids marked final since the last lookup, oldest first. */
  private unindexed: string[][] = []
  private unindexedCount = 0
  /** id → the waits that need it. One Wait per waitAll/waitAny call, not per id. */
  private readonly waiters = new Map<string, Wait[]>()
  private subscription: Promise<Unsubscribe> | null = null
  private pollTimer: NodeJS.Timeout | null = null
  private pollDelay: number
  /** When the backend first failed to answer a wait's reads (null while it answers). */
  private unavailableSince: number | null = null
  private static readonly MAX_CACHED = 100_000

  /**
   * @param outageMs how long waits ride out an unavailable backend (reads retried every
   *   `pollMs`, the subscription re-made) before they fail with its `BackendUnavailableError`.
   */
  constructor(
    private readonly orchestrator: Orchestrator,
    private readonly pollMs: number,
    private readonly outageMs = 60_000,
  ) {
    this.pollDelay = pollMs
  }

  /**
   * Runs a read of a wait; an unavailable backend is noted and ridden out (the poll retries), any
   * other error is thrown.
   */
  private async tolerate(read: () => Promise<unknown>): Promise<void> {
    try {
      await read()
      this.unavailableSince = null
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err
      this.unavailableSince ??= Date.now()
      if (Date.now() - this.unavailableSince > this.outageMs) throw err
    }
  }

  /**
   * Outcomes that came with a final status (the runner's own accepted finish, or a notification
   * that carried them): `result()` in this process then needs no read. Bounded (MAX_OUTCOMES,
   * plus up to an eighth more between trims); the oldest go.
   */
  private readonly outcomes = new Map<string, Outcome>()
  private static readonly MAX_OUTCOMES = 10_000

  /** Outcome maps given to markFinal since the last lookup, oldest first. */
  private unindexedOutcomes: ReadonlyMap<string, Outcome>[] = []
  private unindexedOutcomeCount = 0

  /** The outcome a final status brought along, if any (see {@link markFinal}). */
  knownOutcome(id: string): Outcome | undefined {
    this.indexOutcomes()
    return this.outcomes.get(id)
  }

  /** Moves the outcomes given since the last lookup into `outcomes`, in the order they came. */
  private indexOutcomes(): void {
    if (this.unindexedOutcomeCount === 0) return
    for (const batch of this.unindexedOutcomes) for (const [id, o] of batch) this.outcomes.set(id, o)
    this.unindexedOutcomes = []
    this.unindexedOutcomeCount = 0
  }

  /**
   * Over MAX_OUTCOMES and an eighth: the oldest go (the indexed ones first: they all came before
   * the unindexed), down to MAX_OUTCOMES. In chunks, not a few on every call: each Map.delete
   * leaves a hole that later iterations from the start skip until V8 rebuilds the table.
   */
  private trimOutcomes(): void {
    let drop = this.outcomes.size + this.unindexedOutcomeCount - ResultWaiter.MAX_OUTCOMES
    if (drop < this.outcomes.size) {
      for (const id of this.outcomes.keys()) {
        if (drop-- <= 0) break
        this.outcomes.delete(id)
      }
      return
    }
    drop -= this.outcomes.size
    this.outcomes.clear()
    const left = dropOldestBatches(this.unindexedOutcomes, drop, (b) => b.size)
    this.unindexedOutcomes = left.batches
    this.unindexedOutcomeCount -= left.dropped
  }

  /**
   * Marks ids final (from a notification or a read) and wakes their waiters. `outcomes`: the
   * winning attempts' outcomes where the source knows them; kept before the waiters wake, so
   * they read them from here.
   */
  markFinal(ids: readonly string[], outcomes?: ReadonlyMap<string, Outcome>): void {
    if (outcomes?.size) {
      // Kept as given and indexed on the first lookup, like the ids (see indexOutcomes): one Map
      // insert per invocation cost ~0.6 µs in a runner process, which rarely looks one up.
      const kept = smallOnly(outcomes)
      this.unindexedOutcomes.push(kept)
      this.unindexedOutcomeCount += kept.size
      if (
        this.outcomes.size + this.unindexedOutcomeCount >
        ResultWaiter.MAX_OUTCOMES + ResultWaiter.MAX_OUTCOMES / 8
      )
        this.trimOutcomes()
    }
    // Indexed lazily (see indexFinals): a runner process marks every id it runs final, usually
    // twice (its own finish and the notification), and rarely looks one up; a Set of up to
    // MAX_CACHED ids cost ~1-2 µs per insert there (cache misses on a table that size).
    this.unindexed.push(ids.slice())
    this.unindexedCount += ids.length
    if (this.finals.size + this.unindexedCount > ResultWaiter.MAX_CACHED) this.trimFinals()
    this.wake(ids)
  }

  /** Wakes the waits of ids that became final (a wait only ever holds ids that were not). */
  private wake(ids: readonly string[]): void {
    if (this.waiters.size === 0) return
    for (const id of ids) {
      const waits = this.waiters.get(id)
      if (!waits) continue
      this.waiters.delete(id)
      for (const w of waits) if (--w.remaining === 0) w.resolve()
    }
  }

  /** Moves the ids marked final since the last lookup into `finals`, in the order they came. */
  private indexFinals(): void {
    if (this.unindexedCount === 0) return
    for (const batch of this.unindexed) for (const id of batch) this.finals.add(id)
    this.unindexed = []
    this.unindexedCount = 0
  }

  /** Whether `id` is known final here. */
  private isFinal(id: string): boolean {
    this.indexFinals()
    return this.finals.has(id)
  }

  /**
   * Over MAX_CACHED entries: the oldest go (the indexed ones first: they all came before the
   * unindexed), down to half. A dropped id is simply re-read.
   */
  private trimFinals(): void {
    let drop = this.finals.size + this.unindexedCount - ResultWaiter.MAX_CACHED / 2
    if (drop >= this.finals.size) {
      drop -= this.finals.size
      this.finals.clear()
    } else {
      // Set keeps insertion order: oldest entries first.
      for (const id of this.finals) {
        if (drop-- <= 0) break
        this.finals.delete(id)
      }
      return
    }
    const left = dropOldestBatches(this.unindexed, drop, (b) => b.length)
    this.unindexed = left.batches
    this.unindexedCount -= left.dropped
  }

  /**
   * Drops what this process knows of removed invocations (retention), so `result()` here reports
   * them unknown as the backend does rather than answering from the cache.
   */
  forget(ids: readonly string[]): void {
    this.indexFinals()
    this.indexOutcomes()
    for (const id of ids) {
      this.finals.delete(id)
      this.outcomes.delete(id)
    }
  }

  isKnownFinal(id: string): boolean {
    return this.isFinal(id)
  }

  private ensureSubscribed(): Promise<Unsubscribe> {
    if (!this.subscription) {
      const sub = this.orchestrator.subscribeFinal((ids, outcomes) => this.markFinal(ids, outcomes))
      this.subscription = sub
      // A failed subscription (backend down) is retried by the next wait, not cached forever.
      sub.catch(() => {
        if (this.subscription === sub) this.subscription = null
      })
    }
    return this.subscription
  }

  /**
   * Resolves when every id is final; rejects with `AbortedError` when `signal` aborts, and with
   * `ResultTimeoutError` (naming the ids still pending) after `options.timeoutMs`.
   */
  async waitAll(ids: readonly string[], signal?: AbortSignal, options: ResultOptions = {}): Promise<void> {
    checkTimeout(options.timeoutMs)
    let pending = [...new Set(ids)].filter((id) => !this.isFinal(id))
    if (pending.length === 0) return
    const deadline = this.deadline(options.timeoutMs)
    await this.tolerate(() => this.ensureSubscribed())
    // Read once after subscribing: ids that became final before the subscription was active.
    await this.tolerate(async () => this.refuseUnknown(await this.refresh(pending)))
    pending = pending.filter((id) => !this.isFinal(id))
    if (pending.length === 0) return
    await this.wait(pending, pending.length, signal, deadline, options.timeoutMs)
  }

  /** Resolves with the first of `ids` to become final (same rejections as {@link waitAll}). */
  async waitAny(ids: readonly string[], signal?: AbortSignal, options: ResultOptions = {}): Promise<string> {
    checkTimeout(options.timeoutMs)
    const done = ids.find((id) => this.isFinal(id))
    if (done) return done
    const deadline = this.deadline(options.timeoutMs)
    await this.tolerate(() => this.ensureSubscribed())
    await this.tolerate(async () => this.refuseUnknown(await this.refresh(ids)))
    const now = ids.find((id) => this.isFinal(id))
    if (now) return now
    await this.wait(ids, 1, signal, deadline, options.timeoutMs)
    return ids.find((id) => this.isFinal(id))!
  }

  /** The time a wait with `timeoutMs` gives up (counted from the call, reads included). */
  private deadline(timeoutMs: number | undefined): number | undefined {
    return timeoutMs === undefined ? undefined : Date.now() + timeoutMs
  }

  private wait(
    ids: readonly string[],
    needed: number,
    signal?: AbortSignal,
    deadline?: number,
    timeoutMs?: number,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let onAbort: (() => void) | undefined
      let timer: NodeJS.Timeout | undefined
      const wait: Wait = {
        remaining: needed,
        resolve: () => {
          if (onAbort) signal?.removeEventListener('abort', onAbort)
          if (timer) clearTimeout(timer)
          this.detach(wait, ids)
          resolve()
        },
        fail: (err) => {
          if (onAbort) signal?.removeEventListener('abort', onAbort)
          if (timer) clearTimeout(timer)
          wait.remaining = -1
          this.detach(wait, ids)
          reject(err)
        },
      }
      for (const id of ids) {
        const list = this.waiters.get(id)
        if (list) list.push(wait)
        else this.waiters.set(id, [wait])
      }
      this.schedulePoll()
      if (deadline !== undefined) {
        const onTimeout = () => {
          if (onAbort) signal?.removeEventListener('abort', onAbort)
          this.detach(wait, ids)
          reject(
            new ResultTimeoutError(
              ids.filter((id) => !this.isFinal(id)),
              timeoutMs ?? 0,
            ),
          )
        }
        const left = deadline - Date.now()
        if (left <= 0) return onTimeout()
        timer = setTimeout(onTimeout, left)
      }
      if (signal) {
        onAbort = () => {
          if (timer) clearTimeout(timer)
          this.detach(wait, ids)
          reject(
            new AbortedError(
              'The wait for invocation results was aborted (the runner stopped or the task timed out).',
            ),
          )
        }
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
      }
    })
  }

  /** Removes a settled wait from ids that are not final yet (waitAny, aborts). */
  private detach(wait: Wait, ids: readonly string[]): void {
    if (wait.remaining === 0 && ids.length === 1) return
    for (const id of ids) {
      const list = this.waiters.get(id)
      if (!list) continue
      const i = list.indexOf(wait)
      if (i >= 0) list.splice(i, 1)
      if (list.length === 0) this.waiters.delete(id)
    }
  }

  /** Reads the states of `ids`, marks the final ones, and returns the ids the orchestrator does not know. */
  private async refresh(ids: readonly string[]): Promise<string[]> {
    const unknown: string[] = []
    // Chunked so a wait on a very large group does not become one huge backend request.
    for (let i = 0; i < ids.length; i += 5000) {
      const chunk = ids.slice(i, i + 5000)
      const states = await this.orchestrator.getStates(chunk)
      const final = chunk.filter((_, j) => {
        const s = states[j]
        return s !== null && s !== undefined && isFinal(s.status)
      })
      for (const [j, id] of chunk.entries()) if (states[j] == null) unknown.push(id)
      if (final.length) this.markFinal(final)
    }
    return unknown
  }

  /**
   * A wait on an id the orchestrator does not know (never stored, or removed by retention) would
   * never end: the first read refuses it instead.
   */
  private refuseUnknown(unknown: readonly string[]): void {
    if (unknown.length) throw new InvocationNotFoundError(unknown[0]!)
  }

  /**
   * The safety net re-reads every outstanding id, so on a long wait it backs off: resultPollMs,
   * then twice that, up to 16×. Notifications do the real work; polling every 2 s cost up to 3
   * reads per invocation on long Redis runs.
   */
  private schedulePoll(): void {
    if (this.pollTimer) return
    this.pollTimer = setTimeout(async () => {
      this.pollTimer = null
      if (this.waiters.size === 0) {
        this.pollDelay = this.pollMs
        return
      }
      try {
        // A subscription lost to an outage is made again once the backend answers.
        await this.ensureSubscribed()
        await this.refresh([...this.waiters.keys()])
        this.unavailableSince = null
        this.pollDelay = Math.min(this.pollDelay * 2, this.pollMs * 16)
      } catch (err) {
        // Unavailable: keep waiting and re-read at the base interval (no back-off during an
        // outage, so waits resume soon after it ends) — up to the tolerance, then fail them.
        this.unavailableSince ??= Date.now()
        this.pollDelay = this.pollMs
        if (Date.now() - this.unavailableSince > this.outageMs) this.failAll(err)
      }
      if (this.waiters.size > 0) this.schedulePoll()
      else this.pollDelay = this.pollMs
    }, this.pollDelay)
    this.pollTimer.unref()
  }

  /** Ends every wait with `err` (the backend stayed unavailable past the tolerance). */
  private failAll(err: unknown): void {
    const error = err instanceof Error ? err : new BackendUnavailableError('orchestrator', String(err))
    const waits = new Set([...this.waiters.values()].flat())
    this.waiters.clear()
    this.unavailableSince = null
    for (const w of waits) w.fail(error)
  }

  async close(): Promise<void> {
    if (this.pollTimer) clearTimeout(this.pollTimer)
    this.pollTimer = null
    const sub = this.subscription
    this.subscription = null
    if (sub) await (await sub)()
  }
}

/**
 * The outcomes of `outcomes` small enough to keep (`outcomes` itself when all are): a runner's
 * process finishes everything it runs, and a cache of large results nobody here awaits would grow
 * to MAX_OUTCOMES × their size. The map is kept, not copied: callers pass one they no longer change.
 */
function smallOnly(outcomes: ReadonlyMap<string, Outcome>): ReadonlyMap<string, Outcome> {
  for (const o of outcomes.values()) {
    if (o.value.length <= MAX_INLINE_OUTCOME_CHARS) continue
    const small = new Map<string, Outcome>()
    for (const [id, v] of outcomes) if (v.value.length <= MAX_INLINE_OUTCOME_CHARS) small.set(id, v)
    return small
  }
  return outcomes
}

/**
 * Drops whole batches, oldest first, until at least `drop` entries are gone (the trims of the
 * lazily indexed ids and outcomes): the batches kept and how many entries went.
 */
function dropOldestBatches<B>(
  batches: B[],
  drop: number,
  size: (batch: B) => number,
): { batches: B[]; dropped: number } {
  let k = 0
  let dropped = 0
  while (dropped < drop && k < batches.length) dropped += size(batches[k++]!)
  return { batches: k > 0 ? batches.slice(k) : batches, dropped }
}

/** Apps already warned that no runner is running (once per app). */
const warnedApps = new WeakSet<object>()

/**
 * For a wait outside a task of `rt` (see `asInvocationWait`): after `orchestrator.noRunnerWarnAfterMs`, when no runner of
 * the app is heartbeating, logs one warning (once per app) saying how to start one — a call with
 * no runner anywhere would otherwise wait silently for ever. Returns the function that cancels
 * the check (call it when the wait ends).
 */
export function watchForRunners(rt: NencRuntime): () => void {
  if (warnedApps.has(rt)) return () => {}
  const afterMs = rt.config.value<number>('orchestrator.noRunnerWarnAfterMs')
  if (!(afterMs > 0)) return () => {}
  const timer = setTimeout(async () => {
    try {
      const active = await rt.backend.orchestrator.getActiveRunners(
        rt.config.value<number>('orchestrator.runnerDeadAfterMs'),
      )
      if (active.length > 0 || warnedApps.has(rt)) return
      warnedApps.add(rt)
      rt.logger.warn(
        { appId: rt.appId, waitedMs: afterMs },
        `No runner is running for app "${rt.appId}": waited ${afterMs} ms for a result and no runner ` +
          'of this app is heartbeating, so the invocation may never run. Start one with ' +
          '`nenc runner start --app <path>` or `app.runner.start()` ' +
          '(this warning is logged once; config orchestrator.noRunnerWarnAfterMs, 0 = never).',
      )
    } catch {
      // The backend is unavailable: the wait itself reports or outlives that; no warning.
    }
  }, afterMs)
  timer.unref()
  return () => clearTimeout(timer)
}
