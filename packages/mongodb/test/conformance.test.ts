import { describeBackend } from '@nenc/conformance'
import type { Backend } from '@nenc/core'
import { describe } from 'vitest'
import { type MongoBackend, mongoBackend } from '../src/index.js'

// The whole behavioural suite against a real MongoDB named by NENC_MONGO_URL. This machine has
// no MongoDB server, so without the variable the suite is skipped and says so once.
const url = process.env.NENC_MONGO_URL
if (!url) {
  console.log(
    '[@nenc/mongodb] conformance suite skipped: NENC_MONGO_URL is not set (no MongoDB server on this machine); ' +
      'run NENC_MONGO_URL=mongodb://127.0.0.1:27017 pnpm --filter @nenc/mongodb test',
  )
}

describe.runIf(url)('mongodb conformance (NENC_MONGO_URL)', () => {
  describeBackend('mongodb', {
    create: () => mongoBackend({ url: url!, database: process.env.NENC_MONGO_DB ?? 'nenc_test' }),
    // Drop (not just purge) the app's collections: every test has its own app id.
    destroy: async (backend: Backend) => {
      const b = backend as MongoBackend
      try {
        await Promise.all(Object.values(b).map((c) => c.drop()))
      } finally {
        for (const c of Object.values(b)) await c.close()
      }
    },
  })
})
