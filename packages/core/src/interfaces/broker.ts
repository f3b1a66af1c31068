import type { Component, Unsubscribe } from './component.js'

export interface RouteOptions {
  /** Milliseconds before the ids may be retrieved. @default 0 */
  delayMs?: number
}

export interface BrokerCapabilities {
  /** Notifications are pushed by the server (not polled by the client). */
  pushedWakeUps: boolean
}

/**
 * The queue of invocation ids ready to run. It holds ids only; the orchestrator decides whether
 * an id may still run, so the queue may hold stale or duplicate ids (consumers re-check).
 */
export interface Broker extends Component {
  readonly capabilities: BrokerCapabilities
  /**
   * Appends ids to the queue, in order, in one round trip. With `delayMs > 0` the ids become
   * retrievable only after that delay (retry backoff, concurrency reroutes), durably: a delayed
   * id survives the router's death.
   * Success: every id is durable in the queue (as durable as the backend). Repeat call: the ids
   * are queued again (duplicates are allowed). Errors: `BackendUnavailableError`/`BackendError`.
   */
  route(ids: readonly string[], options?: RouteOptions): Promise<void>
  /**
   * Removes and returns up to `max` ids whose delay has passed, oldest first, without waiting.
   * Success: an array of 0..max ids. Races: with N concurrent callers no id is returned to two of
   * them. `max <= 0` returns []. Errors: `BackendUnavailableError`/`BackendError`.
   */
  retrieve(max: number): Promise<string[]>
  /** Number of ids in the queue (duplicates counted). */
  count(): Promise<number>
  /**
   * Calls `listener` after ids were routed by any process of this app. Notifications may be
   * coalesced or spurious, never withheld: after `route()` resolves, every subscriber is called
   * at least once (delayed ids: once they are due, give or take the backend's timer resolution).
   * Resolves once the subscription is active.
   */
  subscribe(listener: () => void): Promise<Unsubscribe>
  /** Removes every queued id of this app. */
  purge(): Promise<void>
}
