import { ConfigError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import {
  appPrefix,
  checkNamespaceLength,
  chunkId,
  collectionNames,
  MAX_NAMESPACE_BYTES,
  newOpToken,
} from '../src/names.js'

describe('collection names', () => {
  it('default prefix is nenc_<appId>_ and every collection hangs off it', () => {
    expect(appPrefix('nenc', 'shop')).toBe('nenc_shop_')
    expect(collectionNames(appPrefix('nenc', 'shop'))).toEqual({
      invocations: 'nenc_shop_invocations',
      waits: 'nenc_shop_waits',
      runners: 'nenc_shop_runners',
      queue: 'nenc_shop_queue',
      records: 'nenc_shop_records',
      outcomes: 'nenc_shop_outcomes',
      workflowData: 'nenc_shop_workflow_data',
      runnerContexts: 'nenc_shop_runner_contexts',
      progress: 'nenc_shop_progress',
      clientData: 'nenc_shop_client_data',
      triggers: 'nenc_shop_triggers',
      validConditions: 'nenc_shop_valid_conditions',
      cron: 'nenc_shop_cron',
      triggerRuns: 'nenc_shop_trigger_runs',
      events: 'nenc_shop_events',
    })
  })

  it('keeps app ids core accepts (letters, digits, _ . -) as they are', () => {
    expect(appPrefix('x', 'my-app.v2_1')).toBe('x_my-app.v2_1_')
  })

  it('replaces other characters and appends a hash, so distinct app ids never share collections', () => {
    const a = appPrefix('nenc', 'a$b')
    const b = appPrefix('nenc', 'a b')
    expect(a).toMatch(/^nenc_a_b-[0-9a-f]{8}_$/)
    expect(b).toMatch(/^nenc_a_b-[0-9a-f]{8}_$/)
    expect(a).not.toBe(b)
    expect(a).not.toContain('$')
    expect(appPrefix('nenc', 'a$b')).toBe(a)
  })

  it('an empty app id is a configuration error', () => {
    expect(() => appPrefix('nenc', '')).toThrow(ConfigError)
  })

  it('a namespace over MongoDB’s limit is reported before anything is created', () => {
    expect(() => checkNamespaceLength('db', collectionNames(appPrefix('nenc', 'shop')))).not.toThrow()
    const long = appPrefix('nenc', 'a'.repeat(MAX_NAMESPACE_BYTES))
    expect(() => checkNamespaceLength('db', collectionNames(long))).toThrow(/longer than 255 bytes/)
  })
})

describe('derived ids', () => {
  it('write tokens are unique within a process and short', () => {
    const tokens = new Set(Array.from({ length: 10_000 }, () => newOpToken()))
    expect(tokens.size).toBe(10_000)
    for (const t of [...tokens].slice(0, 10)) expect(t.length).toBeLessThan(24)
  })

  it('chunk ids name their value and position', () => {
    expect(chunkId('abc', 0)).toBe('abc#chunk0')
    expect(chunkId('abc', 12)).toBe('abc#chunk12')
  })
})
