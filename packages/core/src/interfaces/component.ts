/** What every component receives when the app binds it. */
export interface ComponentContext {
  /** The app's id; every key, row and document a component writes is scoped by it. */
  appId: string
}

/**
 * Lifecycle shared by the five components. A backend usually builds all five over one client;
 * `close()` releases only what the component (or its backend) created and is idempotent.
 */
export interface Component {
  /** Backend family, for errors and logs (`memory`, `redis`, `postgres`, `mongodb`). */
  readonly backendName: string
  /** True when the data lives in this process's memory: runners in other processes cannot see it. */
  readonly inMemory: boolean
  /**
   * Binds the component to an app and prepares storage (scripts, schema, indexes).
   * Idempotent: a second call with the same app id does nothing; a different app id throws.
   */
  init(ctx: ComponentContext): Promise<void>
  /** Releases connections the component created. Idempotent. */
  close(): Promise<void>
}

/** A subscription handle: call it to stop receiving notifications. */
export type Unsubscribe = () => Promise<void> | void
