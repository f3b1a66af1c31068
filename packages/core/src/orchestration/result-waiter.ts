import { AbortedError } from '../errors.js'
import type { Unsubscribe } from '../interfaces/component.js'
import type { Orchestrator } from '../interfaces/orchestrator.js'
import { isFinal } from '../invocation/status.js'

/**
 * The process-local cache of final statuses and the waits on it. One subscription per app to
 * the orchestrator's final-status notifications fills the cache; a wait resolves as soon as its
 * id is in it. A slow safety poll (`resultPollMs`) re-reads outstanding ids in one batch, so a
 * lost notification only delays a waiter, never strands it.
 */
export class ResultWaiter {
  private readonly finals = new Set<string>()
  private readonly waiters = new Map<string, Set<() => void>>()
  private subscription: Promise<Unsubscribe> | null = null
  private pollTimer: NodeJS.Timeout | null = null
  private static readonly MAX_CACHED = 100_000

  constructor(
    private readonly orchestrator: Orchestrator,
    private readonly pollMs: number,
  ) {}

  /** Marks ids final (from a notification or a read) and wakes their waiters. */
  markFinal(ids: readonly string[]): void {
    for (const id of ids) {
      this.finals.add(id)
      const set = this.waiters.get(id)
      if (set) {
        this.waiters.delete(id)
        for (const wake of set) wake()
      }
    }
    if (this.finals.size > ResultWaiter.MAX_CACHED) {
      // Oldest entries first (Set keeps insertion order); a dropped id is simply re-read.
      let drop = this.finals.size - ResultWaiter.MAX_CACHED / 2
      for (const id of this.finals) {
        if (drop-- <= 0) break
        this.finals.delete(id)
      }
    }
  }

  isKnownFinal(id: string): boolean {
    return this.finals.has(id)
  }

  private ensureSubscribed(): Promise<Unsubscribe> {
    this.subscription ??= this.orchestrator.subscribeFinal((ids) => this.markFinal(ids))
    return this.subscription
  }

  /** Resolves when every id is final; rejects with `AbortedError` when `signal` aborts. */
  async waitAll(ids: readonly string[], signal?: AbortSignal): Promise<void> {
    let pending = ids.filter((id) => !this.finals.has(id))
    if (pending.length === 0) return
    await this.ensureSubscribed()
    // Read once after subscribing: ids that became final before the subscription was active.
    await this.refresh(pending)
    pending = pending.filter((id) => !this.finals.has(id))
    if (pending.length === 0) return
    await Promise.all(pending.map((id) => this.waitOne(id, signal)))
  }

  /** Resolves with the first of `ids` to become final. */
  async waitAny(ids: readonly string[], signal?: AbortSignal): Promise<string> {
    const done = ids.find((id) => this.finals.has(id))
    if (done) return done
    await this.ensureSubscribed()
    await this.refresh(ids)
    const now = ids.find((id) => this.finals.has(id))
    if (now) return now
    return new Promise<string>((resolve, reject) => {
      const cleanups: (() => void)[] = []
      const finish = (id: string) => {
        for (const c of cleanups) c()
        resolve(id)
      }
      for (const id of ids) cleanups.push(this.addWaiter(id, () => finish(id)))
      if (signal) {
        const onAbort = () => {
          for (const c of cleanups) c()
          reject(
            new AbortedError(
              'The wait for invocation results was aborted (the runner stopped or the task timed out).',
            ),
          )
        }
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
        cleanups.push(() => signal.removeEventListener('abort', onAbort))
      }
    })
  }

  private waitOne(id: string, signal?: AbortSignal): Promise<void> {
    if (this.finals.has(id)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      let onAbort: (() => void) | undefined
      const remove = this.addWaiter(id, () => {
        if (onAbort) signal?.removeEventListener('abort', onAbort)
        resolve()
      })
      if (signal) {
        onAbort = () => {
          remove()
          reject(
            new AbortedError(
              `The wait for invocation ${id} was aborted (the runner stopped or the task timed out).`,
            ),
          )
        }
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
      }
    })
  }

  private addWaiter(id: string, wake: () => void): () => void {
    let set = this.waiters.get(id)
    if (!set) this.waiters.set(id, (set = new Set()))
    set.add(wake)
    this.schedulePoll()
    return () => {
      const s = this.waiters.get(id)
      s?.delete(wake)
      if (s?.size === 0) this.waiters.delete(id)
    }
  }

  private async refresh(ids: readonly string[]): Promise<void> {
    const states = await this.orchestrator.getStates(ids)
    const final = ids.filter((_, i) => {
      const s = states[i]
      return s !== null && s !== undefined && isFinal(s.status)
    })
    if (final.length) this.markFinal(final)
  }

  private schedulePoll(): void {
    if (this.pollTimer) return
    this.pollTimer = setTimeout(async () => {
      this.pollTimer = null
      if (this.waiters.size === 0) return
      try {
        await this.refresh([...this.waiters.keys()])
      } catch {
        // The backend is briefly unavailable: keep waiting, the next poll or notification decides.
      }
      if (this.waiters.size > 0) this.schedulePoll()
    }, this.pollMs)
    this.pollTimer.unref()
  }

  async close(): Promise<void> {
    if (this.pollTimer) clearTimeout(this.pollTimer)
    this.pollTimer = null
    const sub = this.subscription
    this.subscription = null
    if (sub) await (await sub)()
  }
}
