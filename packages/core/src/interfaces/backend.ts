import type { Broker } from './broker.js'
import type { ClientDataStore } from './client-data-store.js'
import type { FusedSteps } from './fused-steps.js'
import type { Orchestrator } from './orchestrator.js'
import type { StateBackend } from './state-backend.js'
import type { TriggerStore } from './trigger-store.js'

/**
 * The five components an app runs on. Backend packages export a factory returning all five;
 * users may mix components of different backends by spreading one and replacing another.
 */
export interface Backend {
  broker: Broker
  orchestrator: Orchestrator
  stateBackend: StateBackend
  clientDataStore: ClientDataStore
  triggerStore: TriggerStore
  /**
   * Optional fused steps (one round trip each) over this backend's own components; see
   * {@link FusedSteps}. Core composes the components when absent or when they do not match.
   */
  steps?: FusedSteps
}

export const COMPONENT_NAMES = [
  'broker',
  'orchestrator',
  'stateBackend',
  'clientDataStore',
  'triggerStore',
] as const
