import { createServer } from 'node:net'
import { BackendUnavailableError, ConfigError, NencError } from '@nenc/core'
import { MongoClient, MongoServerSelectionError } from 'mongodb'
import { beforeAll, describe, expect, it } from 'vitest'
import { MongoBroker, MongoConnection, MongoOrchestrator, mongoBackend } from '../src/index.js'

// No MongoDB server exists on this machine. These tests use the real driver against a loopback
// port nobody listens on, which is exactly what an outage looks like to the driver.
let deadUrl = ''
beforeAll(async () => {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  deadUrl = `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=300&connectTimeoutMS=300`
})

describe('lifecycle without a reachable server', () => {
  it('init() fails with BackendUnavailableError("mongodb") carrying the driver’s server-selection error', async () => {
    const orchestrator = new MongoOrchestrator({ url: deadUrl })
    const err = await orchestrator.init({ appId: 'app' }).catch((e) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect(err.backend).toBe('mongodb')
    expect(err.cause).toBeInstanceOf(MongoServerSelectionError)
    expect(err.message).toMatch(/connecting to MongoDB database "nenc"/)
    // The failed init released everything: close is a no-op, a retry fails the same way.
    await orchestrator.close()
    await expect(orchestrator.init({ appId: 'app' })).rejects.toBeInstanceOf(BackendUnavailableError)
    await orchestrator.close()
  })

  it('a client passed in is never closed by nenc, even when init fails', async () => {
    const client = new MongoClient(deadUrl)
    let closes = 0
    const close = client.close.bind(client)
    client.close = async (...args: Parameters<MongoClient['close']>) => {
      closes++
      return close(...args)
    }
    const backend = mongoBackend({ client, database: 'shop' })
    const err = await backend.broker.init({ appId: 'app' }).catch((e) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    for (const c of Object.values(backend)) await c.close()
    expect(closes).toBe(0)
    await client.close()
    expect(closes).toBe(1)
  })

  it('the five components of one backend share one connection; a component alone has its own', () => {
    const backend = mongoBackend({ url: deadUrl })
    const connections = new Set(Object.values(backend).map((c) => c.connection))
    expect(connections.size).toBe(1)
    expect([...connections][0]!.ownsClient).toBe(true)
    expect(new MongoBroker({ url: deadUrl }).connection).not.toBe(backend.broker.connection)
    const shared = new MongoConnection({ url: deadUrl })
    expect(new MongoBroker(shared).connection).toBe(shared)
    expect(mongoBackend({ client: new MongoClient(deadUrl) }).broker.connection.ownsClient).toBe(false)
  })

  it('bad options fail at construction, before any connection', () => {
    expect(() => mongoBackend({ url: deadUrl, client: new MongoClient(deadUrl) })).toThrow(ConfigError)
    expect(() => new MongoOrchestrator({ url: 'postgres://x' })).toThrow(ConfigError)
  })

  it('components report their backend, are not in-memory, and refuse use before init()', async () => {
    const backend = mongoBackend({ url: deadUrl })
    for (const c of Object.values(backend)) {
      expect(c.backendName).toBe('mongodb')
      expect(c.inMemory).toBe(false)
    }
    expect(backend.broker.capabilities).toEqual({ pushedWakeUps: false })
    expect(backend.orchestrator.capabilities).toEqual({ pushedFinalNotifications: false })
    const err = await backend.orchestrator.getStates(['x']).catch((e) => e)
    expect(err).toBeInstanceOf(NencError)
    expect(err.code).toBe('CONFIG')
    expect(err.message).toContain('call init({ appId }) first')
    await expect(backend.broker.route(['x'])).rejects.toMatchObject({ code: 'CONFIG' })
    for (const c of Object.values(backend)) await c.close()
  })

  it('empty batches answer without touching the server', async () => {
    const backend = mongoBackend({ url: deadUrl })
    expect(await backend.orchestrator.transition([])).toEqual([])
    expect(await backend.orchestrator.claim([], 'r')).toEqual([])
    expect(await backend.orchestrator.register([])).toEqual([])
    expect(await backend.orchestrator.getStates([])).toEqual([])
    expect(await backend.broker.retrieve(0)).toEqual([])
    expect(await backend.stateBackend.getOutcomes([])).toEqual([])
    expect(await backend.clientDataStore.retrieve([])).toEqual([])
  })
})
