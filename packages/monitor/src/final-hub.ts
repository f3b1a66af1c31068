import type { Orchestrator, Unsubscribe } from '@nenc/core'

/**
 * One `subscribeFinal` subscription shared by every open page: each server-sent-event stream
 * adds a listener, the backend subscription is taken with the first and dropped with the last.
 */
export class FinalHub {
  private readonly listeners = new Set<(ids: string[]) => void>()
  private subscription: Promise<Unsubscribe> | null = null

  constructor(private readonly orchestrator: Orchestrator) {}

  async add(listener: (ids: string[]) => void): Promise<() => void> {
    this.listeners.add(listener)
    this.subscription ??= this.orchestrator.subscribeFinal((ids) => {
      for (const l of this.listeners) l(ids)
    })
    await this.subscription
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0) void this.close()
    }
  }

  async close(): Promise<void> {
    const s = this.subscription
    this.subscription = null
    if (s) await (await s)()
  }
}
