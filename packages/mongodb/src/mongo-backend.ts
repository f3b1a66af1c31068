import type { Backend } from '@nenc/core'
import { MongoConnection } from './connection.js'
import { MongoBroker } from './mongo-broker.js'
import { MongoClientDataStore } from './mongo-client-data-store.js'
import { MongoOrchestrator } from './mongo-orchestrator.js'
import { MongoStateBackend } from './mongo-state-backend.js'
import { MongoTriggerStore } from './mongo-trigger-store.js'
import type { MongoBackendOptions } from './options.js'

/** The five Mongo components of {@link mongoBackend}, typed concretely (`drop()`, `connection`). */
export interface MongoBackend extends Backend {
  broker: MongoBroker
  orchestrator: MongoOrchestrator
  stateBackend: MongoStateBackend
  clientDataStore: MongoClientDataStore
  triggerStore: MongoTriggerStore
}

/**
 * All five components over one MongoDB client. Options are validated here (a bad one throws
 * `ConfigError` at once); nothing connects until the app initialises the components. With `url`
 * the client is closed when the last component closes; a `client` you pass is never closed.
 *
 * @example
 * const app = new Nenc({ appId: 'shop', backend: mongoBackend({ url: 'mongodb://127.0.0.1:27017' }) })
 */
export function mongoBackend(options: MongoBackendOptions): MongoBackend {
  const connection = new MongoConnection(options)
  return {
    broker: new MongoBroker(connection),
    orchestrator: new MongoOrchestrator(connection),
    stateBackend: new MongoStateBackend(connection),
    clientDataStore: new MongoClientDataStore(connection),
    triggerStore: new MongoTriggerStore(connection),
  }
}
