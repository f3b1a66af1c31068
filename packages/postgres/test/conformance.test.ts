import { describeBackend } from '@nenc/conformance'
import type { Backend } from '@nenc/core'
import { postgresBackend } from '../src/index.js'
import { admin, closeAll, freshSchemaName, PG_URL } from './helpers.js'

// Each test gets its own schema, migrated on init and dropped by destroy(). Keyed by the
// orchestrator: the composed run gets the same components without `steps` (a new object).
const schemas = new WeakMap<object, string>()

// Run twice by the suite: through the factory's fused steps, and with `steps` removed (composed).
describeBackend('postgres', {
  fusedSteps: true,
  create: () => {
    const schema = freshSchemaName()
    const backend = postgresBackend({ connectionString: PG_URL, schema, pollIntervalMs: 200 })
    schemas.set(backend.orchestrator, schema)
    return backend
  },
  destroy: async (backend: Backend) => {
    await closeAll(backend as ReturnType<typeof postgresBackend>)
    await admin().query(`DROP SCHEMA IF EXISTS "${schemas.get(backend.orchestrator)}" CASCADE`)
  },
})
