import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, NencConfig } from '../src/index.js'

function file(data: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'nenc-config-'))
  const path = join(dir, 'nenc.config.json')
  writeFileSync(path, JSON.stringify(data))
  return path
}

describe('configuration', () => {
  it('uses defaults and knows they are defaults', () => {
    const c = new NencConfig({ env: {} })
    expect(c.get('runner.minParallelSlots')).toEqual({ value: 1, source: 'default' })
  })

  it('at equal specificity: environment beats file beats code', () => {
    const f = file({ runner: { maxThreads: 4 } })
    expect(new NencConfig({ code: { runner: { maxThreads: 2 } }, env: {} }).get('runner.maxThreads')).toEqual(
      { value: 2, source: 'code' },
    )
    expect(
      new NencConfig({ code: { runner: { maxThreads: 2 } }, file: f, env: {} }).get('runner.maxThreads'),
    ).toMatchObject({ value: 4, source: `file ${f}` })
    expect(
      new NencConfig({
        code: { runner: { maxThreads: 2 } },
        file: f,
        env: { NENC__RUNNER__MAX_THREADS: '8' },
      }).get('runner.maxThreads'),
    ).toEqual({ value: 8, source: 'env NENC__RUNNER__MAX_THREADS' })
  })

  it("a task's own option beats an app-wide default from any source; its own env beats its code", () => {
    const c = new NencConfig({ env: { NENC__TASK__MAX_RETRIES: '5' } })
    expect(c.taskOptions('charge', {}).get('maxRetries')).toEqual({
      value: 5,
      source: 'env NENC__TASK__MAX_RETRIES',
    })
    expect(c.taskOptions('charge', { maxRetries: 1 }).get('maxRetries')).toEqual({ value: 1, source: 'code' })
    const own = new NencConfig({ env: { NENC__TASK__BILLING_CHARGE__MAX_RETRIES: '3' } })
    expect(own.taskOptions('billing.charge', { maxRetries: 1 }).get('maxRetries')).toEqual({
      value: 3,
      source: 'env NENC__TASK__BILLING_CHARGE__MAX_RETRIES',
    })
    const f = file({ tasks: { charge: { timeoutMs: 900 } } })
    expect(
      new NencConfig({ file: f, env: {} }).taskOptions('charge', { timeoutMs: 100 }).get('timeoutMs'),
    ).toMatchObject({ value: 900 })
  })

  it('a bad value names the key and where it came from', () => {
    const err = (() => {
      try {
        new NencConfig({ env: { NENC__RUNNER__MAX_THREADS: 'many' } })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ConfigError)
    expect(err).toMatchObject({ key: 'runner.maxThreads', source: 'env NENC__RUNNER__MAX_THREADS' })
    expect(String((err as Error).message)).toContain('"many"')
    const f = file({ orchestrator: { blockingControl: 'yes' } })
    expect(() => new NencConfig({ file: f, env: {} })).toThrow(
      new RegExp(`orchestrator.blockingControl.*file ${f}`),
    )
    expect(() => new NencConfig({ code: { task: { maxRetries: -1 } }, env: {} })).toThrow(
      /task.maxRetries.*code/,
    )
  })

  it('refuses unknown keys instead of ignoring them', () => {
    expect(() => new NencConfig({ code: { runner: { maxThread: 3 } }, env: {} })).toThrow(
      /runner.maxThread.*unknown key/,
    )
    expect(() => new NencConfig({ code: { tasks: { t: { retries: 3 } } }, env: {} })).toThrow(
      /tasks.t.retries/,
    )
  })

  it('reads NENC_CONFIG and reports a broken file clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nenc-config-'))
    const broken = join(dir, 'broken.json')
    writeFileSync(broken, '{ not json')
    expect(() => new NencConfig({ env: { NENC_CONFIG: broken } })).toThrow(/not valid JSON/)
  })

  it('describe() lists every value with its source', () => {
    const c = new NencConfig({ code: { appId: 'shop' }, env: {} })
    c.taskOptions('t', { maxRetries: 2 })
    const rows = c.describe()
    expect(rows.find((r) => r.key === 'appId')).toMatchObject({ value: 'shop', source: 'code' })
    expect(rows.find((r) => r.key === 'tasks.t.maxRetries')).toMatchObject({ value: 2, source: 'code' })
  })
})
