/**
 * Backend kit: in-process listeners of one component. Notifications emitted in the same
 * event-loop turn are coalesced into one call per listener (a route of 1,000 ids, or a change
 * stream delivering 1,000 events, is one wake-up), and an emit with no listener costs nothing.
 */
export class CoalescingNotifier<T> {
  private readonly listeners = new Set<(items: T[]) => void>()
  private pending: T[] = []
  private scheduled = false

  /** How many listeners are subscribed. */
  get size(): number {
    return this.listeners.size
  }

  /** Adds a listener; the returned function removes it. */
  add(listener: (items: T[]) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
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
