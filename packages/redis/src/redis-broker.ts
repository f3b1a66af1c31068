import type { Broker, RouteOptions, Unsubscribe } from '@nenc/core'
import { countQueued } from './lua/count-queued.js'
import { retrieveInvocations } from './lua/retrieve-invocations.js'
import { routeInvocations } from './lua/route-invocations.js'
import { RedisComponent } from './redis-component.js'

/**
 * The queue of ready ids: a Redis list, plus a zset of delayed ids that `retrieve()` moves to the
 * list once due (server time). Wake-ups are pushed: the route script publishes the delay on the
 * app's routed channel; a subscriber wakes its listeners at once, or sets a timer for a delay it
 * learns of (from that message, from `retrieve()` or when it subscribes).
 */
export class RedisBroker extends RedisComponent implements Broker {
  readonly capabilities = { pushedWakeUps: true }
  protected readonly component = 'broker' as const
  private readonly listeners = new Set<() => void>()
  private stopChannel: (() => Promise<void>) | null = null
  private stopReconnect: (() => void) | null = null
  private timer: NodeJS.Timeout | null = null
  private timerAt = 0
  private notifyScheduled = false

  private get queueKeys(): string[] {
    return [this.keys.fixed('queue'), this.keys.fixed('delayed'), this.keys.fixed('delayedSeq')]
  }

  async route(ids: readonly string[], options?: RouteOptions): Promise<void> {
    if (ids.length === 0) return
    const delay = Math.max(0, Math.ceil(options?.delayMs ?? 0))
    const args = [this.keys.prefix, this.keys.fixed('routedChannel'), delay, ...ids]
    await this.run(routeInvocations, this.queueKeys, args)
  }

  async retrieve(max: number): Promise<string[]> {
    if (max <= 0) return []
    return this.take(Math.floor(max))
  }

  /**
   * @internal A fused step moved due ids and popped the queue itself: `nextDue` (ms, -1 = none)
   * sets the wake-up timer as {@link retrieve} does.
   */
  noteNextDue(nextDue: number): void {
    if (nextDue >= 0) this.wakeIn(nextDue)
  }

  /** One retrieve round trip; `max` 0 only moves due ids and learns when the next one is due. */
  private async take(max: number): Promise<string[]> {
    const keys = [this.keys.fixed('queue'), this.keys.fixed('delayed')]
    const [ids, nextDue] = (await this.run(retrieveInvocations, keys, [this.keys.prefix, max])) as [
      string[],
      number,
    ]
    if (nextDue >= 0) this.wakeIn(nextDue)
    return ids
  }

  async count(): Promise<number> {
    const keys = [this.keys.fixed('queue'), this.keys.fixed('delayed')]
    return Number(await this.run(countQueued, keys, [this.keys.prefix]))
  }

  /**
   * Listens on the routed channel (shared subscriber connection). After a reconnection every
   * listener is called once, since messages published while disconnected are lost.
   */
  async subscribe(listener: () => void): Promise<Unsubscribe> {
    this.listeners.add(listener)
    try {
      if (!this.stopChannel) {
        this.stopChannel = await this.conn.subscribe(this.keys.fixed('routedChannel'), (message) => {
          const delay = Number(message)
          if (delay > 0) this.wakeIn(delay)
          else this.notify()
        })
        this.stopReconnect = this.conn.onReconnect(() => this.notify())
      }
      await this.take(0)
    } catch (err) {
      await this.removeListener(listener)
      throw err
    }
    return () => this.removeListener(listener)
  }

  private async removeListener(listener: () => void): Promise<void> {
    if (!this.listeners.delete(listener) || this.listeners.size > 0) return
    await this.stopListening()
  }

  private async stopListening(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.stopReconnect?.()
    this.stopReconnect = null
    const stop = this.stopChannel
    this.stopChannel = null
    await stop?.()
  }

  /** Calls every listener once, coalescing notifications of one event-loop turn. */
  private notify(): void {
    if (this.notifyScheduled || this.listeners.size === 0) return
    this.notifyScheduled = true
    queueMicrotask(() => {
      this.notifyScheduled = false
      for (const l of this.listeners) l()
    })
  }

  /** Notifies listeners in `ms` (plus 1 ms, as the server compares due ≤ now); keeps the earliest timer. */
  private wakeIn(ms: number): void {
    if (this.listeners.size === 0) return
    const at = Date.now() + ms + 1
    if (this.timer && this.timerAt <= at) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = at
    // Capped at setTimeout's largest delay (a schedule weeks ahead would otherwise fire at once);
    // an early wake-up is only a spurious one, which subscribers allow.
    this.timer = setTimeout(
      () => {
        this.timer = null
        this.notify()
      },
      Math.min(ms + 1, 2 ** 31 - 1),
    )
    this.timer.unref()
  }

  protected override async onClose(): Promise<void> {
    this.listeners.clear()
    await this.stopListening()
  }
}
