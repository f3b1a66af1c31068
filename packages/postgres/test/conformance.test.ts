import { describeBackend } from '@nenc/conformance'
import type { Backend } from '@nenc/core'
import { postgresBackend } from '../src/index.js'
import { admin, closeAll, freshSchemaName, PG_URL } from './helpers.js'

// Each test gets its own schema, migrated on init and dropped by destroy().
const schemas = new WeakMap<object, string>()

function create(): ReturnType<typeof postgresBackend> {
  const schema = freshSchemaName()
  const backend = postgresBackend({ connectionString: PG_URL, schema, pollIntervalMs: 200 })
  schemas.set(backend, schema)
  return backend
}

async function destroy(backend: Backend): Promise<void> {
  await closeAll(backend as ReturnType<typeof postgresBackend>)
  await admin().query(`DROP SCHEMA IF EXISTS "${schemas.get(backend)}" CASCADE`)
}

// The factory's backend: core runs on its fused steps.
describeBackend('postgres', { create, destroy })

// The same components without `steps`: core composes the steps from the components.
describeBackend('postgres (composed)', {
  create: () => {
    const full = create()
    const { steps: _fused, ...composed } = full
    schemas.set(composed, schemas.get(full)!)
    return composed
  },
  destroy,
})
