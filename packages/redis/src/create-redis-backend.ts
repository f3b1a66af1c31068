import type { Backend } from '@nenc/core'
import type { RedisBackendOptions } from './options.js'
import { RedisBroker } from './redis-broker.js'
import { RedisClientDataStore } from './redis-client-data-store.js'
import { RedisConnection } from './redis-connection.js'
import { RedisOrchestrator } from './redis-orchestrator.js'
import { RedisStateBackend } from './redis-state-backend.js'
import { RedisTriggerStore } from './redis-trigger-store.js'

/** The five Redis components, typed as what they are. */
export interface RedisBackend extends Backend {
  broker: RedisBroker
  orchestrator: RedisOrchestrator
  stateBackend: RedisStateBackend
  clientDataStore: RedisClientDataStore
  triggerStore: RedisTriggerStore
}

/**
 * All five components over one shared {@link RedisConnection}: one command connection and one
 * pub/sub connection, created when the first component is initialised and closed when the last
 * one closes (a `client` you pass in is never closed). Validates options at once (`ConfigError`).
 *
 * ```ts
 * const app = new Nenc({ appId: 'shop', backend: redisBackend({ url: process.env.REDIS_URL }) })
 * ```
 */
export function redisBackend(options: RedisBackendOptions | RedisConnection = {}): RedisBackend {
  const connection = options instanceof RedisConnection ? options : new RedisConnection(options)
  return {
    broker: new RedisBroker(connection),
    orchestrator: new RedisOrchestrator(connection),
    stateBackend: new RedisStateBackend(connection),
    clientDataStore: new RedisClientDataStore(connection),
    triggerStore: new RedisTriggerStore(connection),
  }
}

/** Alias of {@link redisBackend}, named after the style guide's `create<Backend>Backend`. */
export const createRedisBackend = redisBackend
