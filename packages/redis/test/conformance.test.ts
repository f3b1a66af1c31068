import { describeBackend } from '@nenc/conformance'
import type { Backend } from '@nenc/core'
import { redisBackend } from '../src/index.js'
import { destroyBackend, REDIS_URL } from './helpers.js'

// The whole behavioural suite against a real Redis (NENC_REDIS_URL, default loopback), twice:
// through the backend's fused steps, and through core's composed steps over the same components.
describeBackend('redis', {
  create: () => redisBackend({ url: REDIS_URL }),
  destroy: destroyBackend,
})

describeBackend('redis (composed steps)', {
  create: (): Backend => {
    const { steps: _fused, ...composed } = redisBackend({ url: REDIS_URL })
    return composed
  },
  destroy: destroyBackend,
})
