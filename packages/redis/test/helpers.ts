import { randomUUID } from 'node:crypto'
import { type Backend, COMPONENT_NAMES, type Component } from '@nenc/core'

type PurgeableComponent = Component & { purge(): Promise<void> }

import { Redis } from 'ioredis'
import { type RedisBackend, redisBackend } from '../src/index.js'

/** The Redis the tests use (a real server: `NENC_REDIS_URL`, else loopback). */
export const REDIS_URL = process.env.NENC_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A fresh app id, so each test has its own key prefix. */
export const freshAppId = (topic: string): string => `test-${topic}-${randomUUID().slice(0, 8)}`

/** The five components of a backend (not its `steps`), each once. */
export const componentsOf = (backend: Backend): PurgeableComponent[] => [
  ...new Set<PurgeableComponent>(COMPONENT_NAMES.map((n) => backend[n])),
]

/** Initialised components for a fresh app id. */
export async function initBackend(
  appId: string,
  options: Parameters<typeof redisBackend>[0] = { url: REDIS_URL },
): Promise<RedisBackend> {
  const backend = redisBackend(options)
  for (const c of componentsOf(backend)) await c.init({ appId })
  return backend
}

/** Purges every component's keys and closes them. */
export async function destroyBackend(backend: Backend): Promise<void> {
  try {
    await Promise.all(componentsOf(backend).map((c) => c.purge()))
  } finally {
    for (const c of componentsOf(backend)) await c.close()
  }
}

/** A plain client for looking at (or tampering with) keys directly. */
export const rawClient = (url = REDIS_URL): Redis => new Redis(url, { lazyConnect: false })

/** Number of keys under an app's prefix. */
export async function keysOf(client: Redis, appId: string): Promise<string[]> {
  return client.keys(`nenc:{${appId}}:*`)
}
