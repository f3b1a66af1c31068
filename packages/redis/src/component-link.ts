import type { ClaimOutcome } from '@nenc/core'
import { upsertInvocations } from './lua/upsert-invocations.js'
import type { RedisConnection } from './redis-connection.js'
import { StagedWrites } from './staged-writes.js'

/** Records read ahead at claim time kept until the state backend asks for them. */
const PREFETCH_LIMIT = 10_000

/**
 * Saves round trips between the components of one backend that share a connection — and only
 * when both components of an app are on it, so a mixed backend (say, a PostgreSQL state backend
 * beside the Redis orchestrator) never sees any of this:
 *
 * - **Records read ahead.** The claim script returns the claimed invocations' records; the state
 *   backend serves the runner's `getInvocations` right after the claim from them.
 * - **Outcomes folded into the final transition.** `setOutcomes` stages the outcomes and the next
 *   transition script of the app writes them first, in the same atomic step as the statuses (a
 *   final status and its outcome appear together). If no transition follows in the same
 *   event-loop turn, they are written on their own. Staged outcomes are dropped only once
 *   written: a failed write puts them back for the next attempt. Reads on this connection see
 *   them at once; other processes see them once written (the runner always writes them before —
 *   now: with — the final status, so no reader of a final status misses them).
 * - **Records folded into the registration.** Likewise `upsertInvocations` stages the records and
 *   the next register script writes them before it creates the invocations, so an id a runner
 *   can see always has its record.
 * - **Next ids claimed with the final transition.** When exactly one runner of the app runs in
 *   this process (it heartbeats through this orchestrator and listens to this broker), a
 *   transition batch of that runner that frees slots also pops and claims up to that many queued
 *   ids for it, in the same script — BullMQ's "finish and fetch next". The broker's next
 *   `retrieve()` hands those ids out and the orchestrator's `claim()` answers them from here. A
 *   claim answered late is harmless: every later step is ownership-checked, and PENDING recovery
 *   covers a process that dies holding some. When the runner stops listening, what it did not
 *   take is rerouted and queued again.
 */

/** A claim made ahead of the runner's own `claim()` call. */
export interface AheadClaim {
  id: string
  outcome: ClaimOutcome
}

interface ReadAhead {
  runner: string
  /** Not handed out by `retrieve()` yet, oldest first. */
  queued: AheadClaim[]
  /** Handed out by `retrieve()`, waiting for the runner's `claim()`. */
  handedOut: Map<string, AheadClaim>
}
export class ComponentLink {
  private readonly stateBackends = new Map<string, number>()
  private readonly orchestrators = new Map<string, number>()
  private readonly prefetched = new Map<string, string>()
  /** Outcomes `[key, value]` for the next transition script. */
  readonly outcomes: StagedWrites
  /** Invocation records `[id, json, parent id]` for the next register script. */
  readonly records: StagedWrites
  private readonly listeners = new Map<string, number>()
  private readonly runners = new Map<string, Set<string>>()
  private readonly ahead = new Map<string, ReadAhead>()
  private readonly releasers = new Map<string, (runner: string, claims: AheadClaim[]) => Promise<void>>()

  constructor(conn: RedisConnection) {
    this.outcomes = new StagedWrites(2, (_, flat) => conn.command('setOutcomes', (c) => c.mset(flat)))
    this.records = new StagedWrites(3, (prefix, flat) =>
      conn.scripts.eval(upsertInvocations, [], [prefix, ...flat]),
    )
  }

  /** A state backend or orchestrator (`role`) of the app with key prefix `prefix` joined or left this connection. */
  attach(role: 'stateBackend' | 'orchestrator', prefix: string, attached: boolean): void {
    const map = role === 'stateBackend' ? this.stateBackends : this.orchestrators
    const n = (map.get(prefix) ?? 0) + (attached ? 1 : -1)
    if (n > 0) map.set(prefix, n)
    else map.delete(prefix)
  }

  /** True when both the state backend and the orchestrator of this app share the connection. */
  linked(prefix: string): boolean {
    return this.stateBackends.has(prefix) && this.orchestrators.has(prefix)
  }

  /** A broker listener of the app joined (+1) or left (-1); the last one leaving releases the read-ahead. */
  async listen(prefix: string, delta: 1 | -1): Promise<void> {
    const n = (this.listeners.get(prefix) ?? 0) + delta
    if (n > 0) {
      this.listeners.set(prefix, n)
      return
    }
    this.listeners.delete(prefix)
    await this.release(prefix)
  }

  /** Runner ids that heartbeat through this connection's orchestrator of the app. */
  noteRunners(prefix: string, runnerIds: readonly string[]): void {
    let set = this.runners.get(prefix)
    if (!set) this.runners.set(prefix, (set = new Set()))
    for (const id of runnerIds) set.add(id)
  }

  /** The runner to claim next ids for after `actor`'s transitions, or '' (see the class doc). */
  claimNextFor(prefix: string, actor: string | null): string {
    if (!actor || !this.linked(prefix) || !this.listeners.has(prefix)) return ''
    const set = this.runners.get(prefix)
    return set?.size === 1 && set.has(actor) ? actor : ''
  }

  /** Keeps claims made ahead for `runner`. */
  addAhead(prefix: string, runner: string, claims: readonly AheadClaim[]): void {
    if (claims.length === 0) return
    let ra = this.ahead.get(prefix)
    if (!ra || ra.runner !== runner)
      this.ahead.set(prefix, (ra = { runner, queued: [], handedOut: new Map() }))
    ra.queued.push(...claims)
  }

  /** Hands out up to `max` ids claimed ahead (the broker's `retrieve()`). */
  takeAheadIds(prefix: string, max: number): string[] {
    const ra = this.ahead.get(prefix)
    if (!ra || ra.queued.length === 0) return []
    const taken = ra.queued.splice(0, max)
    for (const c of taken) ra.handedOut.set(c.id, c)
    return taken.map((c) => c.id)
  }

  /** The outcome of a claim made ahead for `runner`, once. */
  takeAheadOutcome(prefix: string, runner: string, id: string): ClaimOutcome | undefined {
    const ra = this.ahead.get(prefix)
    if (!ra || ra.runner !== runner) return undefined
    const c = ra.handedOut.get(id)
    if (c) ra.handedOut.delete(id)
    return c?.outcome
  }

  /** The orchestrator's way to give back claims nobody took (reroute and queue them again). */
  setReleaser(
    prefix: string,
    releaser: ((runner: string, claims: AheadClaim[]) => Promise<void>) | null,
  ): void {
    if (releaser) this.releasers.set(prefix, releaser)
    else this.releasers.delete(prefix)
  }

  /** Gives back every claim made ahead for the app and not taken. */
  async release(prefix: string): Promise<void> {
    const ra = this.ahead.get(prefix)
    this.ahead.delete(prefix)
    if (!ra) return
    const claims = [...ra.queued, ...ra.handedOut.values()]
    const releaser = this.releasers.get(prefix)
    if (claims.length && releaser) await releaser(ra.runner, claims)
  }

  /** Keeps a record read ahead (bounded: the oldest are dropped first). */
  prefetch(key: string, raw: string): void {
    this.prefetched.set(key, raw)
    if (this.prefetched.size > PREFETCH_LIMIT) {
      const oldest = this.prefetched.keys().next().value
      if (oldest !== undefined) this.prefetched.delete(oldest)
    }
  }

  /** Takes a record read ahead, if any (each is served once). */
  takePrefetched(key: string): string | undefined {
    const raw = this.prefetched.get(key)
    if (raw !== undefined) this.prefetched.delete(key)
    return raw
  }

  /** Drops what is staged and claimed ahead for an app (purge). */
  discard(prefix: string): void {
    this.outcomes.discard(prefix)
    this.records.discard(prefix)
    this.ahead.delete(prefix)
    for (const key of this.prefetched.keys()) if (key.startsWith(prefix)) this.prefetched.delete(key)
  }
}
