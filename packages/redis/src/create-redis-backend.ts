import type { Backend } from '@nenc/core'
import type { RedisBackendOptions } from './options.js'
import { RedisBroker } from './redis-broker.js'
import { RedisClientDataStore } from './redis-client-data-store.js'
import { RedisConnection } from './redis-connection.js'
import { RedisOrchestrator } from './redis-orchestrator.js'
import { RedisStateBackend } from './redis-state-backend.js'
import { RedisSteps } from './redis-steps.js'
import { RedisTriggerStore } from './redis-trigger-store.js'

/** The five Redis components, typed as what they are. */
export interface RedisBackend extends Backend {
  broker: RedisBroker
  orchestrator: RedisOrchestrator
  stateBackend: RedisStateBackend
  clientDataStore: RedisClientDataStore
  triggerStore: RedisTriggerStore
  /** Fused steps over this backend's broker, orchestrator and state backend (one script call each). */
  steps: RedisSteps
}

/**
 * All five components over one shared {@link RedisConnection}: one command connection and one
 * pub/sub connection, created when the first component is initialised and closed when the last
 * one closes (a `client` you pass in is never closed), plus `steps`: the runner's and caller's
 * steps fused into one script call each over these components ({@link RedisSteps}). Validates
 * options at once (`ConfigError`).
 *
 * ```ts
 * const app = new Nenc({ appId: 'shop', backend: redisBackend({ url: process.env.REDIS_URL }) })
 * ```
 */
export function redisBackend(options: RedisBackendOptions | RedisConnection = {}): RedisBackend {
  const connection = options instanceof RedisConnection ? options : new RedisConnection(options)
  const broker = new RedisBroker(connection)
  const orchestrator = new RedisOrchestrator(connection)
  const stateBackend = new RedisStateBackend(connection)
  return {
    broker,
    orchestrator,
    stateBackend,
    clientDataStore: new RedisClientDataStore(connection),
    triggerStore: new RedisTriggerStore(connection),
    steps: new RedisSteps(broker, orchestrator, stateBackend),
  }
}

/** Alias of {@link redisBackend}, named after the style guide's `create<Backend>Backend`. */
export const createRedisBackend = redisBackend
