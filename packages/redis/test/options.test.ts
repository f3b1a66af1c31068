import { ConfigError } from '@nenc/core'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { DEFAULT_REDIS_URL, redisBackend, resolveOptions } from '../src/index.js'

describe('resolveOptions()', () => {
  it('fills defaults and freezes the result', () => {
    const o = resolveOptions()
    expect(o).toMatchObject({
      url: DEFAULT_REDIS_URL,
      client: null,
      keyPrefix: 'nenc',
      commandTimeoutMs: 10_000,
      connectTimeoutMs: 5000,
      maxReconnectDelayMs: 1000,
      replayWindowMs: 15_000,
    })
    expect(Object.isFrozen(o)).toBe(true)
  })

  it('refuses url and client together, naming the key', () => {
    const client = new Redis({ lazyConnect: true })
    expect(() => resolveOptions({ url: 'redis://x', client })).toThrow(ConfigError)
    expect(() => resolveOptions({ url: 'redis://x', client })).toThrow(/url.*either `url` or `client`/s)
    client.disconnect()
  })

  it.each([
    [{ url: 'http://localhost' }, 'url'],
    [{ url: 42 as unknown as string }, 'url'],
    [{ client: {} as Redis }, 'client'],
    [{ keyPrefix: '' }, 'keyPrefix'],
    [{ keyPrefix: 'a{b}' }, 'keyPrefix'],
    [{ commandTimeoutMs: -1 }, 'commandTimeoutMs'],
    [{ connectTimeoutMs: 1.5 }, 'connectTimeoutMs'],
    [{ maxReconnectDelayMs: Number.NaN }, 'maxReconnectDelayMs'],
  ])('rejects %j with a ConfigError on %s', (input, key) => {
    const err = (() => {
      try {
        resolveOptions(input)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).key).toBe(key)
  })

  it('redisBackend() validates at construction, before any connection', () => {
    expect(() => redisBackend({ url: 'nope' })).toThrow(ConfigError)
  })

  it('accepts an existing client and never takes a URL from it', () => {
    const client = new Redis({ lazyConnect: true })
    expect(resolveOptions({ client })).toMatchObject({ client, url: null })
    client.disconnect()
  })
})
