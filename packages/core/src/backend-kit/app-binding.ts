import { NencError } from '../errors.js'

/**
 * Backend kit: the lifecycle every component shares. The first `init({ appId })` binds the
 * component to that app and opens what it needs (a pooled connection, migrations, indexes)
 * exactly once, however many callers init it at the same time; an init for another app is refused
 * with a CONFIG error (one backend per app: keys, rows and documents carry the app id). A failed
 * open leaves nothing half-bound, so init may be retried. `close()` runs the component's own
 * shutdown once, after the open settled, and a later `init()` for the same app opens it again.
 */
export class AppBinding {
  private app: string | null = null
  private opened: Promise<void> | null = null
  private closing: Promise<void> | null = null

  /** @param what names the component in errors, e.g. `This Redis broker`. */
  constructor(private readonly what: () => string) {}

  /** Binds to `appId` and runs `open` unless it already ran (or is running) for this binding. */
  bind(appId: string, open: () => Promise<void>): Promise<void> {
    if (this.app !== null && this.app !== appId) {
      throw new NencError(
        'CONFIG',
        `${this.what()} is bound to app "${this.app}" and cannot serve app "${appId}"; create one backend per app.`,
      )
    }
    if (this.opened) return this.opened
    const wasBound = this.app !== null
    this.app = appId
    const opened = (this.closing ?? Promise.resolve()).then(open).catch((err: unknown) => {
      if (this.opened === opened) this.opened = null
      if (!wasBound) this.app = null
      throw err
    })
    this.opened = opened
    return opened
  }

  /**
   * Runs `shutdown` once for the current open (none when never opened or already closed); it
   * runs after the open settled, and not at all when the open failed. Concurrent calls share it.
   */
  release(shutdown: () => Promise<void>): Promise<void> {
    const opened = this.opened
    if (!opened) return this.closing ?? Promise.resolve()
    this.opened = null
    const closing = opened
      .then(shutdown, () => {})
      .finally(() => {
        if (this.closing === closing) this.closing = null
      })
    this.closing = closing
    return closing
  }

  /**
   * The bound app id while open — and while its shutdown runs, so a component can still settle
   * (stop subscriptions, flush) — ; throws a CONFIG error naming the component otherwise.
   */
  get appId(): string {
    if (this.app === null || (!this.opened && !this.closing)) {
      throw new NencError(
        'CONFIG',
        `${this.what()} is not initialised: call init({ appId }) first (the app does it on first use).`,
      )
    }
    return this.app
  }

  /** The app id bound by the first successful init, even while closed (null before). */
  get boundAppId(): string | null {
    return this.app
  }

  /** True between an init and the next close (the open may still be in flight). */
  get isOpen(): boolean {
    return this.opened !== null
  }
}
