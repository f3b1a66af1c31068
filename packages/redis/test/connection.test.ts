import { BackendUnavailableError, ConfigError, NencError } from '@nenc/core'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { RedisBroker, RedisConnection, redisBackend } from '../src/index.js'
import { componentsOf, destroyBackend, freshAppId, REDIS_URL } from './helpers.js'
import { freePort } from './redis-server.js'

const clientsOf = async (probe: Redis, name: string) =>
  ((await probe.client('LIST')) as string).split('\n').filter((l) => l.includes(`name=${name}`)).length

describe('connections: shared, lazy, ref-counted, closing only what they created', () => {
  const probes: Redis[] = []
  afterEach(() => {
    for (const p of probes.splice(0)) p.disconnect()
  })

  it('the five components share one command connection and one subscriber, closed by the last close()', async () => {
    const name = `nenc-share-${Date.now()}`
    const backend = redisBackend({ url: REDIS_URL, redisOptions: { connectionName: name } })
    const probe = new Redis(REDIS_URL)
    probes.push(probe)
    expect(await clientsOf(probe, name)).toBe(0) // lazy: nothing before init
    const appId = freshAppId('share')
    for (const c of componentsOf(backend)) await c.init({ appId })
    await backend.broker.subscribe(() => {})
    await backend.orchestrator.subscribeFinal(() => {})
    expect(await clientsOf(probe, name)).toBe(2)
    const components = componentsOf(backend)
    for (const c of components.slice(0, 4)) await c.close()
    await backend.triggerStore.purge() // still usable: one reference left
    expect(await clientsOf(probe, name)).toBe(2)
    await components[4]!.close()
    await components[4]!.close() // idempotent
    await new Promise((r) => setTimeout(r, 50))
    expect(await clientsOf(probe, name)).toBe(0)
  })

  it('a client passed in is used for commands and never closed; its pub/sub duplicate is', async () => {
    const client = new Redis(REDIS_URL)
    probes.push(client)
    const backend = redisBackend({ client })
    const appId = freshAppId('given')
    for (const c of componentsOf(backend)) await c.init({ appId })
    await backend.broker.route(['a'])
    expect(await client.llen(`nenc:{${appId}}:b:queue`)).toBe(1)
    await destroyBackend(backend)
    expect(client.status).toBe('ready')
    expect(await client.ping()).toBe('PONG')
  })

  it('a component built from options owns its connection', async () => {
    const broker = new RedisBroker({ url: REDIS_URL })
    await broker.init({ appId: freshAppId('own') })
    await broker.route(['x'])
    expect(await broker.count()).toBe(1)
    await broker.purge()
    await broker.close()
    await expect(broker.count()).rejects.toBeInstanceOf(BackendUnavailableError)
  })

  it('a component bound to one app refuses another app id', async () => {
    const conn = new RedisConnection({ url: REDIS_URL })
    const a = redisBackend(conn)
    await a.broker.init({ appId: freshAppId('conn') })
    await expect(a.broker.init({ appId: 'another-app' })).rejects.toBeInstanceOf(NencError)
    await a.broker.close()
  })

  it('init() against a server that is not there fails with BackendUnavailableError, not a hang', async () => {
    const port = await freePort()
    const backend = redisBackend({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500 })
    const t0 = Date.now()
    const err = await backend.orchestrator.init({ appId: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect((err as BackendUnavailableError).backend).toBe('redis')
    expect(Date.now() - t0).toBeLessThan(3000)
    await backend.orchestrator.close()
  })

  it('a method called before init() says so', async () => {
    const backend = redisBackend({ url: REDIS_URL })
    await expect(backend.broker.route(['x'])).rejects.toThrow(/init\(\{ appId \}\)/)
    expect(() => redisBackend({ url: REDIS_URL, keyPrefix: '' })).toThrow(ConfigError)
  })
})
