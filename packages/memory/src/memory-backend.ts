import type { Backend } from '@nenc/core'
import { MemoryBroker } from './memory-broker.js'
import { MemoryClientDataStore } from './memory-client-data-store.js'
import { MemoryOrchestrator } from './memory-orchestrator.js'
import { MemoryStateBackend } from './memory-state-backend.js'
import { MemoryTriggerStore } from './memory-trigger-store.js'

/**
 * All five components in this process's memory. Only runners that execute tasks in this
 * process (ThreadRunner) can use them; the app refuses process runners with a clear error.
 */
export function memoryBackend(): Backend {
  return {
    broker: new MemoryBroker(),
    orchestrator: new MemoryOrchestrator(),
    stateBackend: new MemoryStateBackend(),
    clientDataStore: new MemoryClientDataStore(),
    triggerStore: new MemoryTriggerStore(),
  }
}
