import { describeBackend } from '@nenc/conformance'
import { postgresBackend } from '../src/index.js'
import { admin, closeAll, freshSchemaName, PG_URL } from './helpers.js'

// Each test gets its own schema, migrated on init and dropped by destroy().
const schemas = new WeakMap<object, string>()

describeBackend('postgres', {
  create: () => {
    const schema = freshSchemaName()
    const backend = postgresBackend({ connectionString: PG_URL, schema, pollIntervalMs: 200 })
    schemas.set(backend, schema)
    return backend
  },
  destroy: async (backend) => {
    await closeAll(backend as ReturnType<typeof postgresBackend>)
    await admin().query(`DROP SCHEMA IF EXISTS "${schemas.get(backend)}" CASCADE`)
  },
})
