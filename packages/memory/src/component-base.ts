import { type ComponentContext, NencError } from '@nenc/core'

/** Shared lifecycle of the memory components: bound to one app id, nothing to close. */
export abstract class MemoryComponent {
  readonly backendName = 'memory'
  readonly inMemory = true
  protected appId: string | null = null

  async init(ctx: ComponentContext): Promise<void> {
    if (this.appId !== null && this.appId !== ctx.appId) {
      throw new NencError(
        'CONFIG',
        `This memory component is bound to app "${this.appId}" and cannot serve app "${ctx.appId}"; create one backend per app.`,
      )
    }
    this.appId = ctx.appId
  }

  async close(): Promise<void> {}
}

/** Coalesces synchronous notifications into one call per microtask turn. */
export class Notifier<T> {
  private readonly listeners = new Set<(items: T[]) => void>()
  private pending: T[] = []
  private scheduled = false

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
      for (const l of this.listeners) l(batch)
    })
  }
}
