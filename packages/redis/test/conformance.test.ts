import { describeBackend } from '@nenc/conformance'
import { redisBackend } from '../src/index.js'
import { destroyBackend, REDIS_URL } from './helpers.js'

// The whole behavioural suite against a real Redis (NENC_REDIS_URL, default loopback).
describeBackend('redis', {
  create: () => redisBackend({ url: REDIS_URL }),
  destroy: destroyBackend,
})
