/**
 * In-process listeners of one component. Notifications emitted in the same event-loop turn are
 * coalesced into one call per listener (a route of 1,000 ids seen by a change stream is 1,000
 * events, but one wake-up).
 */
export class Notifier<T> {
  private readonly listeners = new Set<(items: T[]) => void>()
  private pending: T[] = []
  private scheduled = false

  get size(): number {
    return this.listeners.size
  }

  add(listener: (items: T[]) => void): () => boolean {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(items: readonly T[]): void {
    if (this.listeners.size === 0) return
    this.pending.push(...items)
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      const batch = this.pending
      this.pending = []
      for (const listener of this.listeners) listener(batch)
    })
  }
}
