import { type Broker, CoalescingNotifier, type RouteOptions, type Unsubscribe } from '@nenc/core'
import { MemoryComponent } from './component-base.js'

/** setTimeout's largest delay (about 24.8 days); a later due time is armed again when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * A FIFO of ids in this process. Retrieval is synchronous inside one call, so concurrent
 * callers can never receive the same queue entry. Delayed ids wait on a timer; they live only as
 * long as the process, like everything in the memory backend.
 */
export class MemoryBroker extends MemoryComponent implements Broker {
  readonly capabilities = { pushedWakeUps: true }
  private queue: string[] = []
  private head = 0
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly notifier = new CoalescingNotifier<void>()

  async route(ids: readonly string[], options?: RouteOptions): Promise<void> {
    const delay = options?.delayMs ?? 0
    if (delay > 0) {
      this.pushAt([...ids], Date.now() + delay)
      return
    }
    this.push(ids)
  }

  /**
   * Queues ids once the wall clock reaches `due`. Node's timers run on a monotonic clock and may
   * fire a millisecond before `Date.now()` reaches the due time; a scheduled call must never be
   * retrievable before its time, so an early timer is armed again for what is left.
   */
  private pushAt(ids: readonly string[], due: number): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer)
        if (Date.now() < due) this.pushAt(ids, due)
        else this.push(ids)
      },
      Math.min(MAX_TIMER_MS, Math.max(1, due - Date.now())),
    )
    timer.unref()
    this.timers.add(timer)
  }

  private push(ids: readonly string[]): void {
    for (const id of ids) this.queue.push(id)
    if (ids.length) this.notifier.emit([undefined])
  }

  async retrieve(max: number): Promise<string[]> {
    if (max <= 0) return []
    const end = Math.min(this.head + max, this.queue.length)
    const out = this.queue.slice(this.head, end)
    this.head = end
    // Compact now and then so a long-lived queue does not grow without bound.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    return out
  }

  async count(): Promise<number> {
    return this.queue.length - this.head
  }

  async subscribe(listener: () => void): Promise<Unsubscribe> {
    return this.notifier.add(() => listener())
  }

  async purge(): Promise<void> {
    this.queue = []
    this.head = 0
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  override async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}
