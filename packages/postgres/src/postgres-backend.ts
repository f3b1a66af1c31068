import type { Backend, FusedSteps } from '@nenc/core'
import type { PostgresBackendOptions } from './options.js'
import { PostgresBroker } from './postgres-broker.js'
import { PostgresClientDataStore } from './postgres-client-data-store.js'
import { PostgresConnection } from './postgres-connection.js'
import { PostgresOrchestrator } from './postgres-orchestrator.js'
import { PostgresStateBackend } from './postgres-state-backend.js'
import { postgresSteps } from './postgres-steps.js'
import { PostgresTriggerStore } from './postgres-trigger-store.js'

/** The five PostgreSQL components over one shared connection. */
export interface PostgresBackend extends Backend {
  broker: PostgresBroker
  orchestrator: PostgresOrchestrator
  stateBackend: PostgresStateBackend
  clientDataStore: PostgresClientDataStore
  triggerStore: PostgresTriggerStore
  /** Fused steps over this broker, orchestrator and state backend (postgres-steps.ts). */
  steps: FusedSteps
}

/**
 * All five components on PostgreSQL, sharing one pool, one schema and one LISTEN connection,
 * with the fused `steps` over this broker, orchestrator and state backend (one round trip each,
 * see postgres-steps.ts).
 * Nothing connects until the app initialises the components; the pool the backend created is
 * ended when the last of them closes. Validates `options` at once (`ConfigError`).
 *
 * ```ts
 * const app = new Nenc({ appId: 'shop', backend: postgresBackend({ connectionString: process.env.DATABASE_URL }) })
 * ```
 */
export function postgresBackend(options: PostgresBackendOptions): PostgresBackend {
  const connection = new PostgresConnection(options)
  const broker = new PostgresBroker(connection)
  const orchestrator = new PostgresOrchestrator(connection)
  const stateBackend = new PostgresStateBackend(connection)
  return {
    broker,
    orchestrator,
    stateBackend,
    clientDataStore: new PostgresClientDataStore(connection),
    triggerStore: new PostgresTriggerStore(connection),
    steps: postgresSteps({ broker, orchestrator, stateBackend }),
  }
}
