import { ConfigError } from '@nenc/core'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { postgresBackend, resolveOptions } from '../src/index.js'
import { PG_URL } from './helpers.js'

const configError = (fn: () => unknown, key: string) => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).key).toBe(key)
    return
  }
  throw new Error('expected a ConfigError')
}

describe('resolveOptions', () => {
  it('fills every default and freezes the result', () => {
    const o = resolveOptions({ connectionString: PG_URL })
    expect(o).toMatchObject({
      connectionString: PG_URL,
      pool: null,
      schema: 'nenc',
      maxConnections: 10,
      statementTimeoutMs: 0,
      pollIntervalMs: 1000,
      migrate: true,
      reconnectDelayMs: 100,
      synchronousCommit: 'acknowledged',
    })
    expect(Object.isFrozen(o)).toBe(true)
  })

  it('accepts an existing pool instead of a connection string', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL })
    expect(resolveOptions({ pool }).pool).toBe(pool)
    await pool.end()
  })

  it('refuses both a connection string and a pool, or neither', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL })
    configError(() => resolveOptions({ connectionString: PG_URL, pool }), 'connectionString')
    configError(() => resolveOptions({}), 'connectionString')
    configError(() => resolveOptions({ connectionString: '' }), 'connectionString')
    configError(() => resolveOptions({ pool: {} as pg.Pool }), 'pool')
    await pool.end()
  })

  it('refuses a schema that is not a plain lower-case identifier', () => {
    for (const schema of ['Nenc', 'a-b', 'x; DROP TABLE y', '', '1abc', 'a'.repeat(64)]) {
      configError(() => resolveOptions({ connectionString: PG_URL, schema }), 'schema')
    }
    expect(resolveOptions({ connectionString: PG_URL, schema: 'my_app_2' }).schema).toBe('my_app_2')
  })

  it('refuses bad numbers and enums, naming the option', () => {
    configError(() => resolveOptions({ connectionString: PG_URL, pollIntervalMs: -1 }), 'pollIntervalMs')
    configError(() => resolveOptions({ connectionString: PG_URL, maxConnections: 1.5 }), 'maxConnections')
    configError(
      () => resolveOptions({ connectionString: PG_URL, statementTimeoutMs: '5' as unknown as number }),
      'statementTimeoutMs',
    )
    configError(
      () => resolveOptions({ connectionString: PG_URL, synchronousCommit: 'never' as 'always' }),
      'synchronousCommit',
    )
    configError(
      () => resolveOptions({ connectionString: PG_URL, migrate: 'yes' as unknown as boolean }),
      'migrate',
    )
  })

  it('refuses the removed retention options, naming what replaces them', () => {
    for (const key of ['retentionMs', 'retentionIntervalMs'] as const) {
      const input = { connectionString: PG_URL, [key]: 60_000 } as unknown as Parameters<
        typeof resolveOptions
      >[0]
      configError(() => resolveOptions(input), key)
      expect(() => resolveOptions(input)).toThrow(/retention\.finishedMs/)
    }
  })

  it('postgresBackend() validates at construction, before connecting', () => {
    configError(() => postgresBackend({ connectionString: PG_URL, schema: 'Bad' }), 'schema')
  })
})
