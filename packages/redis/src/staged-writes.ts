/**
 * Writes staged by one component for the next script another component of the same app sends
 * on the shared connection (see {@link ComponentLink}): outcomes for the final transition,
 * invocation records for the registration. Items are fixed-width string tuples keyed by their
 * first field (last write wins). Whatever no script takes within the event-loop turn is written
 * on its own; a failed write is staged again unless a newer value replaced it meanwhile.
 */
export class StagedWrites {
  private readonly staged = new Map<string, Map<string, string[]>>()
  private flushScheduled = false

  /**
   * @param width fields per item, the first being its key.
   * @param write writes flat items of one app (used when no script took them).
   */
  constructor(
    private readonly width: number,
    private readonly write: (prefix: string, flat: string[]) => Promise<unknown>,
  ) {}

  /** Stages items of the app with key prefix `prefix`. */
  stage(prefix: string, items: readonly string[][]): void {
    let map = this.staged.get(prefix)
    if (!map) this.staged.set(prefix, (map = new Map()))
    for (const item of items) map.set(item[0]!, item)
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      void this.flush()
    })
  }

  /** True while something of the app is staged. */
  has(prefix: string): boolean {
    return this.staged.has(prefix)
  }

  /** The staged item with this key, if any. */
  item(prefix: string, key: string): string[] | undefined {
    return this.staged.get(prefix)?.get(key)
  }

  /** Takes every staged item of the app, flattened, for one write. */
  take(prefix: string): string[] {
    const map = this.staged.get(prefix)
    if (!map) return []
    this.staged.delete(prefix)
    return [...map.values()].flat()
  }

  /** Puts back items whose write failed, unless a newer value was staged meanwhile. */
  restore(prefix: string, flat: readonly string[]): void {
    if (flat.length === 0) return
    let map = this.staged.get(prefix)
    if (!map) this.staged.set(prefix, (map = new Map()))
    for (let i = 0; i < flat.length; i += this.width)
      if (!map.has(flat[i]!)) map.set(flat[i]!, flat.slice(i, i + this.width))
  }

  /** Drops what is staged for the app (purge). */
  discard(prefix: string): void {
    this.staged.delete(prefix)
  }

  /** Writes what is staged (for one app, or all); failures stay staged for the next attempt. */
  async flush(prefix?: string): Promise<void> {
    for (const p of prefix === undefined ? [...this.staged.keys()] : [prefix]) {
      const flat = this.take(p)
      if (flat.length === 0) continue
      try {
        await this.write(p, flat)
      } catch (err) {
        this.restore(p, flat)
        if (prefix !== undefined) throw err
      }
    }
  }
}
