import { AppBinding, type ComponentContext } from '@nenc/core'

/** Shared lifecycle of the memory components: bound to one app id, nothing to open or close. */
export abstract class MemoryComponent {
  readonly backendName = 'memory'
  readonly inMemory = true
  private readonly binding = new AppBinding(() => `This memory ${this.constructor.name}`)

  /** The bound app id, or null before the first `init()`. */
  protected get appId(): string | null {
    return this.binding.boundAppId
  }

  async init(ctx: ComponentContext): Promise<void> {
    await this.binding.bind(ctx.appId, async () => {})
  }

  async close(): Promise<void> {
    await this.binding.release(async () => {})
  }
}
