import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { levenshtein } from '../src/config/config.js'
import { ConfigError, envName, NencConfig, taskEnvName } from '../src/index.js'

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

  it('describe() gives the exact environment variable of every key, per-task keys included', () => {
    const c = new NencConfig({ env: {} })
    c.taskOptions('billing.charge', {})
    const rows = c.describe()
    expect(rows.find((r) => r.key === 'runner.maxThreads')!.env).toBe('NENC__RUNNER__MAX_THREADS')
    expect(rows.find((r) => r.key === 'devMode.syncTasks')!.env).toBe('NENC__DEV_MODE__SYNC_TASKS')
    expect(rows.find((r) => r.key === 'task.maxRetries')!.env).toBe('NENC__TASK__MAX_RETRIES')
    expect(rows.find((r) => r.key === 'tasks.billing.charge.maxRetries')!.env).toBe(
      'NENC__TASK__BILLING_CHARGE__MAX_RETRIES',
    )
    expect(taskEnvName('billing.charge', 'timeoutMs')).toBe('NENC__TASK__BILLING_CHARGE__TIMEOUT_MS')
    // The printed name is the one that is read.
    for (const r of rows) {
      const value = r.key.endsWith('maxRetries') ? '4' : null
      if (!value || !r.key.startsWith('tasks.')) continue
      const env = { [r.env]: value }
      expect(new NencConfig({ env }).taskOptions('billing.charge', {}).get('maxRetries')).toEqual({
        value: 4,
        source: `env ${r.env}`,
      })
    }
    expect(new NencConfig({ env: { [envName('runner.maxThreads')]: '6' } }).value('runner.maxThreads')).toBe(
      6,
    )
  })

  it('describe() reports runner constructor options as the value in force', () => {
    const c = new NencConfig({ code: { runner: { maxThreads: 2 } }, env: { NENC__RUNNER__MIN_THREADS: '3' } })
    const rows = c.describe({ overrides: { 'runner.maxThreads': 5, 'runner.minThreads': 1 } })
    expect(rows.find((r) => r.key === 'runner.maxThreads')).toMatchObject({
      value: 5,
      source: 'runner constructor',
    })
    expect(rows.find((r) => r.key === 'runner.minThreads')).toMatchObject({
      value: 1,
      source: 'runner constructor',
    })
    expect(rows.find((r) => r.key === 'runner.minParallelSlots')).toMatchObject({ source: 'default' })
  })
})

describe('unknown NENC__ environment variables', () => {
  const load = (env: Record<string, string>) => {
    const warnings: { message: string; details: Record<string, unknown> }[] = []
    const config = new NencConfig({ env, warn: (message, details) => warnings.push({ message, details }) })
    return { config, warnings }
  }

  it('warns once per variable, naming it and the closest known key, and ignores it', () => {
    const { config, warnings } = load({
      NENC__RUNNER__MAX_THREAD: '8',
      NENC__ORCHESTRATR__RESULT_POLL_MS: '5',
    })
    expect(config.value('runner.maxThreads')).toBe(0)
    expect(warnings).toHaveLength(2)
    const byVar = new Map(warnings.map((w) => [w.details.variable, w]))
    expect(byVar.get('NENC__RUNNER__MAX_THREAD')!.message).toContain(
      'NENC__RUNNER__MAX_THREAD names no nenc configuration key',
    )
    expect(byVar.get('NENC__RUNNER__MAX_THREAD')!.details).toMatchObject({
      closest: 'NENC__RUNNER__MAX_THREADS',
      key: 'runner.maxThreads',
    })
    expect(byVar.get('NENC__RUNNER__MAX_THREAD')!.message).toContain(
      'did you mean NENC__RUNNER__MAX_THREADS (runner.maxThreads)?',
    )
    expect(byVar.get('NENC__ORCHESTRATR__RESULT_POLL_MS')!.details.key).toBe('orchestrator.resultPollMs')
    expect(config.warnings.map((w) => w.variable)).toEqual([
      'NENC__ORCHESTRATR__RESULT_POLL_MS',
      'NENC__RUNNER__MAX_THREAD',
    ])
  })

  it('accepts every known variable, per-task options and unrelated variables without a warning', () => {
    const { warnings } = load({
      NENC__RUNNER__MAX_THREADS: '8',
      NENC__APP_ID: 'shop',
      NENC__DEV_MODE__SYNC_TASKS: 'false',
      NENC__TASK__MAX_RETRIES: '2',
      NENC__TASK__BILLING_CHARGE__MAX_RETRIES: '3',
      NENC__TASK__A_B__RUNNING_CONCURRENCY: 'task',
      NENC_LOG_LEVEL: 'warn',
      NENC_APP: './app.ts',
      // Read by @nenc/monitor itself (a secret, not an app configuration key).
      NENC__MONITOR__TOKEN: 'a-monitor-token-of-length',
      PATH: '/usr/bin',
    })
    expect(warnings).toEqual([])
  })

  it('suggests the task fields for a misspelled per-task option', () => {
    const { warnings } = load({ NENC__TASK__BILLING_CHARGE__MAX_RETRY: '3' })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.details).toMatchObject({
      closest: 'NENC__TASK__BILLING_CHARGE__MAX_RETRIES',
      key: 'tasks.<BILLING_CHARGE>.maxRetries',
    })
  })

  it('logs through the logger it is given', () => {
    const logged: unknown[][] = []
    const logger = { warn: (...args: unknown[]) => logged.push(args) } as never
    new NencConfig({ env: { NENC__RUNNER__MAXTHREADS: '3' }, logger })
    expect(logged).toHaveLength(1)
    expect(String(logged[0]![1])).toContain('NENC__RUNNER__MAXTHREADS')
  })

  it('levenshtein counts edits', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3)
    expect(levenshtein('', 'abc')).toBe(3)
    expect(levenshtein('same', 'same')).toBe(0)
  })
})
