import type { ClaimOutcome } from '@nenc/core'

/** A claim made before the runner's own `claim()` call. */
export interface AheadClaim {
  id: string
  outcome: ClaimOutcome
}

interface Ahead {
  runner: string
  /** Not handed out by `retrieve()` yet, oldest first. */
  queued: AheadClaim[]
  /** Handed out by `retrieve()`, waiting for the runner's `claim()`. */
  handedOut: Map<string, AheadClaim>
}

/** Gives back claims nobody took; resolves with the ids to queue again. */
type Releaser = (runner: string, claims: AheadClaim[]) => Promise<string[]>

/**
 * "Finish and fetch next" (BullMQ's name for it) for the one runner of an app in this process.
 * When that runner's final transitions free slots, the orchestrator claims as many queued ids
 * for it in a second statement sent at the same time (`claim_next`: pop + claim, one round trip),
 * so the latency of fetching overlaps the final transition's flush. The runner's next
 * `retrieve()` hands those ids out and its `claim()` is answered from here: two round trips of
 * its loop saved per batch.
 *
 * Only while exactly one runner heartbeats through this connection's orchestrator of the app
 * and listens through its broker, and no blocking-control edge may exist (those invocations come
 * first). A claim answered late is harmless: every later step is ownership-checked, and PENDING
 * recovery covers a process that dies holding some. When the runner stops listening, what it did
 * not take is rerouted and queued again.
 */
export class ClaimAhead {
  private readonly listeners = new Map<string, number>()
  private readonly runners = new Map<string, Set<string>>()
  private readonly ahead = new Map<string, Ahead>()
  private readonly inflight = new Map<string, Promise<unknown>>()
  private readonly releasers = new Map<string, Releaser>()

  /** A broker subscription of the app joined (+1) or left (-1). */
  listen(appId: string, delta: 1 | -1): void {
    const n = (this.listeners.get(appId) ?? 0) + delta
    if (n > 0) this.listeners.set(appId, n)
    else {
      this.listeners.delete(appId)
      this.runners.delete(appId)
    }
  }

  /** Runner ids that heartbeat through this connection's orchestrator of the app. */
  noteRunners(appId: string, runnerIds: readonly string[]): void {
    let set = this.runners.get(appId)
    if (!set) this.runners.set(appId, (set = new Set()))
    for (const id of runnerIds) set.add(id)
  }

  /** True when `actor` is the only runner of the app here and it listens for wake-ups. */
  mayClaimFor(appId: string, actor: string | null): actor is string {
    if (!actor || !this.listeners.has(appId)) return false
    const set = this.runners.get(appId)
    return set?.size === 1 && set.has(actor)
  }

  /** Keeps the claims of an in-flight `claim_next` for `runner` once it answers. */
  track(appId: string, runner: string, claims: Promise<AheadClaim[]>): void {
    const previous = this.inflight.get(appId) ?? Promise.resolve()
    const done = Promise.all([previous, claims.catch(() => [] as AheadClaim[])]).then(([, got]) => {
      if (got.length) this.add(appId, runner, got)
    })
    this.inflight.set(appId, done)
    void done.finally(() => {
      if (this.inflight.get(appId) === done) this.inflight.delete(appId)
    })
  }

  /** Resolves once no `claim_next` of the app is in flight. */
  async settled(appId: string): Promise<void> {
    while (this.inflight.has(appId)) await this.inflight.get(appId)
  }

  private add(appId: string, runner: string, claims: readonly AheadClaim[]): void {
    let a = this.ahead.get(appId)
    if (!a || a.runner !== runner) this.ahead.set(appId, (a = { runner, queued: [], handedOut: new Map() }))
    const seen = new Set(a.queued.map((c) => c.id))
    for (const c of claims) {
      // A repeated queue entry is a skipped claim of an id already here: keep the first.
      if (seen.has(c.id) || a.handedOut.has(c.id)) continue
      seen.add(c.id)
      a.queued.push(c)
    }
  }

  /** Hands out up to `max` ids claimed ahead (the broker's `retrieve()`). */
  takeIds(appId: string, max: number): string[] {
    const a = this.ahead.get(appId)
    if (!a || a.queued.length === 0) return []
    const taken = a.queued.splice(0, max)
    for (const c of taken) a.handedOut.set(c.id, c)
    return taken.map((c) => c.id)
  }

  /** The outcome of a claim made ahead for `runner`, once. */
  takeOutcome(appId: string, runner: string, id: string): ClaimOutcome | undefined {
    const a = this.ahead.get(appId)
    if (!a || a.runner !== runner) return undefined
    const c = a.handedOut.get(id)
    if (c) a.handedOut.delete(id)
    return c?.outcome
  }

  /** The orchestrator's way to give back claims nobody took. */
  setReleaser(appId: string, releaser: Releaser | null): void {
    if (releaser) this.releasers.set(appId, releaser)
    else this.releasers.delete(appId)
  }

  /** Gives back every claim of the app not taken; resolves with the ids to queue again. */
  async release(appId: string): Promise<string[]> {
    await this.settled(appId)
    const a = this.ahead.get(appId)
    this.ahead.delete(appId)
    const releaser = this.releasers.get(appId)
    if (!a || !releaser) return []
    const claims = [...a.queued, ...a.handedOut.values()]
    return claims.length ? releaser(a.runner, claims) : []
  }

  /** Forgets the claims made ahead for the app (purge). */
  discard(appId: string): void {
    this.ahead.delete(appId)
  }
}
