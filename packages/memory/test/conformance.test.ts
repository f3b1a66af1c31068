import { describeBackend } from '@nenc/conformance'
import { memoryBackend } from '../src/index.js'

describeBackend('memory', {
  create: () => memoryBackend(),
  destroy: async (backend) => {
    await Promise.all([backend.broker.purge(), backend.orchestrator.purge(), backend.stateBackend.purge()])
    for (const c of Object.values(backend)) await c.close()
  },
})
