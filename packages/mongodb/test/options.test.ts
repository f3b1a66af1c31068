import { ConfigError } from '@nenc/core'
import { MongoClient } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { databaseFromUrl, type MongoBackendOptions, resolveOptions } from '../src/options.js'

const URL = 'mongodb://127.0.0.1:27017'

function configError(input: unknown): ConfigError {
  try {
    resolveOptions(input as MongoBackendOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('resolveOptions', () => {
  it('fills every default for a url and returns a frozen object', () => {
    const o = resolveOptions({ url: URL })
    expect(o).toEqual({
      url: URL,
      client: null,
      clientOptions: {},
      database: 'nenc',
      collectionPrefix: 'nenc',
      pollIntervalMs: 100,
      retentionSeconds: 86_400,
      wakeUps: 'auto',
    })
    expect(Object.isFrozen(o)).toBe(true)
  })

  it('takes the database from the url path unless one is given', () => {
    expect(resolveOptions({ url: 'mongodb://h1:1,h2:2/shop?replicaSet=rs0' }).database).toBe('shop')
    expect(resolveOptions({ url: 'mongodb+srv://cluster.example.net/ops' }).database).toBe('ops')
    expect(resolveOptions({ url: 'mongodb://h/shop', database: 'other' }).database).toBe('other')
    expect(resolveOptions({ url: 'mongodb://h/?w=1' }).database).toBe('nenc')
  })

  it('accepts an existing client (and then no clientOptions), never both url and client', () => {
    const client = new MongoClient(URL)
    expect(resolveOptions({ client }).client).toBe(client)
    expect(configError({ url: URL, client }).key).toBe('url')
    expect(configError({ client, clientOptions: { maxPoolSize: 3 } }).key).toBe('clientOptions')
    expect(configError({}).key).toBe('url')
    expect(configError({ client: { db: 1 } }).key).toBe('client')
  })

  it('rejects a url that is not a MongoDB connection string', () => {
    expect(configError({ url: 'redis://127.0.0.1:6379' }).message).toContain('mongodb://')
    expect(configError({ url: 42 }).key).toBe('url')
  })

  it('validates database names, prefixes, poll interval, retention and wake-up mode', () => {
    expect(configError({ url: URL, database: 'a.b' }).key).toBe('database')
    expect(configError({ url: URL, database: 'x'.repeat(64) }).key).toBe('database')
    expect(configError({ url: URL, database: 'bad\u0000' }).key).toBe('database')
    expect(configError({ url: URL, collectionPrefix: 'a$b' }).key).toBe('collectionPrefix')
    expect(configError({ url: URL, collectionPrefix: 'system' }).key).toBe('collectionPrefix')
    expect(configError({ url: URL, collectionPrefix: '' }).key).toBe('collectionPrefix')
    expect(configError({ url: URL, pollIntervalMs: 5 }).key).toBe('pollIntervalMs')
    expect(configError({ url: URL, pollIntervalMs: 1.5 }).key).toBe('pollIntervalMs')
    expect(configError({ url: URL, retentionSeconds: 0 }).key).toBe('retentionSeconds')
    expect(configError({ url: URL, wakeUps: 'push' }).key).toBe('wakeUps')
    expect(resolveOptions({ url: URL, retentionSeconds: null }).retentionSeconds).toBeNull()
    expect(resolveOptions({ url: URL, wakeUps: 'polling', pollIntervalMs: 10 })).toMatchObject({
      wakeUps: 'polling',
      pollIntervalMs: 10,
    })
  })

  it('names the option and its source in the message', () => {
    const err = configError({ url: URL, pollIntervalMs: -1 })
    expect(err.source).toBe('MongoBackendOptions')
    expect(err.message).toContain('pollIntervalMs')
  })
})

describe('databaseFromUrl', () => {
  it('reads the path of single-host, multi-host and srv strings, decoding escapes', () => {
    expect(databaseFromUrl('mongodb://127.0.0.1:27017')).toBeNull()
    expect(databaseFromUrl('mongodb://u:p@h/db')).toBe('db')
    expect(databaseFromUrl('mongodb://a,b,c/db2?replicaSet=x')).toBe('db2')
    expect(databaseFromUrl('mongodb+srv://c.example.net/my%2Ddb')).toBe('my-db')
  })
})
