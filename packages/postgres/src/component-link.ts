import type { InvocationRecord, Outcome } from '@nenc/core'
import { ClaimAhead } from './claim-ahead.js'

/** Records read ahead at claim time, kept until the state backend asks for them. */
const PREFETCH_LIMIT = 20_000
/**
 * A runner asks for the records right after its claim; one not asked for within this long (a
 * claim rerouted before it started) is dropped rather than served stale later.
 */
const PREFETCH_TTL_MS = 5_000
/** First delay before writing staged outcomes again after a failed write; doubles up to 5 s. */
const FLUSH_RETRY_MS = 100

type Role = 'stateBackend' | 'orchestrator'
type Writer = (items: { id: string; outcome: Outcome }[]) => Promise<void>

/**
 * Saves round trips between the components of one app that share a {@link PostgresConnection} —
 * only when both the orchestrator and the state backend of the app are initialised on it, so a
 * mixed backend (say, a Redis state backend beside this orchestrator) never sees any of this:
 *
 * - **Records read ahead.** `claim` returns the claimed invocations' records in the same
 *   statement; the state backend serves the runner's `getInvocations` right after the claim from
 *   them (each once).
 * - **Outcomes folded into the final transition.** `setOutcomes` stages the outcomes and the next
 *   transition of the app writes them in the same statement as the statuses, so a final status
 *   and its outcome commit together. If no transition takes them in the same event-loop turn,
 *   they are written on their own. They are dropped only once written: a failed write puts them
 *   back for the next attempt. Reads through this connection see staged outcomes at once; other
 *   processes see them with the final status — which is when readers look for them.
 * - **Next ids claimed with the final transitions** of the process's one runner (see
 *   {@link ClaimAhead}; this one needs the app's broker on the connection, not the state backend).
 */
export class ComponentLink {
  /** Next ids claimed with a runner's final transitions (claim-ahead.ts). */
  readonly ahead = new ClaimAhead()
  private readonly attached: Record<Role, Map<string, number>> = {
    stateBackend: new Map(),
    orchestrator: new Map(),
  }
  private readonly prefetched = new Map<string, { record: InvocationRecord; at: number }>()
  private readonly staged = new Map<string, Map<string, Outcome>>()
  private flushScheduled = false
  private retryDelayMs = FLUSH_RETRY_MS
  private flushing: Promise<void> | null = null
  private readonly writers = new Map<string, Writer>()

  /** A component of `appId` in `role` joined (`true`) or left this connection. */
  attach(role: Role, appId: string, on: boolean): void {
    const map = this.attached[role]
    const n = (map.get(appId) ?? 0) + (on ? 1 : -1)
    if (n > 0) map.set(appId, n)
    else map.delete(appId)
  }

  /** Both the orchestrator and the state backend of `appId` are on this connection. */
  linked(appId: string): boolean {
    return this.attached.stateBackend.has(appId) && this.attached.orchestrator.has(appId)
  }

  /** Keeps a record read ahead (bounded: the oldest go first). */
  prefetch(appId: string, record: InvocationRecord): void {
    const key = `${appId}\u0000${record.id}`
    this.prefetched.delete(key)
    this.prefetched.set(key, { record, at: Date.now() })
    if (this.prefetched.size > PREFETCH_LIMIT) {
      const oldest = this.prefetched.keys().next().value
      if (oldest !== undefined) this.prefetched.delete(oldest)
    }
  }

  /** A record read ahead, served once. */
  takePrefetched(appId: string, id: string): InvocationRecord | undefined {
    const key = `${appId}\u0000${id}`
    const entry = this.prefetched.get(key)
    if (!entry) return undefined
    this.prefetched.delete(key)
    return Date.now() - entry.at <= PREFETCH_TTL_MS ? entry.record : undefined
  }

  /** How the app's staged outcomes are written when no transition takes them (its state backend). */
  setWriter(appId: string, writer: Writer | null): void {
    if (writer) this.writers.set(appId, writer)
    else this.writers.delete(appId)
  }

  /** Stages outcomes for the app's next transition (last write wins). */
  stage(appId: string, items: readonly { id: string; outcome: Outcome }[]): void {
    let map = this.staged.get(appId)
    if (!map) this.staged.set(appId, (map = new Map()))
    for (const it of items) map.set(it.id, it.outcome)
    this.scheduleFlush(0)
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    const run = () => {
      this.flushScheduled = false
      this.flush().catch(() => {})
    }
    if (delayMs === 0) setImmediate(run)
    else setTimeout(run, delayMs).unref()
  }

  /** A staged outcome not written yet. */
  stagedOutcome(appId: string, id: string): Outcome | undefined {
    return this.staged.get(appId)?.get(id)
  }

  /** Takes every staged outcome of the app for one write. */
  take(appId: string): { id: string; outcome: Outcome }[] {
    const map = this.staged.get(appId)
    if (!map) return []
    this.staged.delete(appId)
    return [...map].map(([id, outcome]) => ({ id, outcome }))
  }

  /** Puts back outcomes whose write failed, unless a newer one was staged meanwhile. */
  restore(appId: string, items: readonly { id: string; outcome: Outcome }[]): void {
    if (items.length === 0) return
    let map = this.staged.get(appId)
    if (!map) this.staged.set(appId, (map = new Map()))
    for (const it of items) if (!map.has(it.id)) map.set(it.id, it.outcome)
  }

  /** Drops what is staged, read or claimed ahead for the app (purge). */
  discard(appId: string): void {
    this.staged.delete(appId)
    this.discardPrefetched(appId)
    this.ahead.discard(appId)
  }

  /** Drops the records read ahead for the app (they may have been deleted). */
  discardPrefetched(appId: string): void {
    const prefix = `${appId}\u0000`
    for (const key of this.prefetched.keys()) if (key.startsWith(prefix)) this.prefetched.delete(key)
  }

  /**
   * Resolves when no write of staged outcomes is in flight. A transition awaits it before taking
   * the staged outcomes, so a final status never commits before an outcome staged ahead of it.
   */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  /** Writes whatever no transition took; a failed write stays staged and is tried again later. */
  flush(): Promise<void> {
    const run = (this.flushing ?? Promise.resolve()).then(() => this.flushOnce())
    const tracked = run.finally(() => {
      if (this.flushing === tracked) this.flushing = null
    })
    this.flushing = tracked
    return tracked
  }

  private async flushOnce(): Promise<void> {
    let failed = false
    for (const appId of [...this.staged.keys()]) {
      const writer = this.writers.get(appId)
      if (!writer) continue
      const items = this.take(appId)
      if (items.length === 0) continue
      try {
        await writer(items)
      } catch {
        // The server is unreachable: keep them for the next transition or flush.
        this.restore(appId, items)
        failed = true
      }
    }
    if (failed) {
      this.scheduleFlush(this.retryDelayMs)
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000)
    } else this.retryDelayMs = FLUSH_RETRY_MS
  }
}
