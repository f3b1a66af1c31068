import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Nenc } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { AppModuleError, bindRunner, isNencApp, loadApp, ProcessRunner } from '../src/index.js'
import { availableBackends } from './helpers.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/modules/${name}`, import.meta.url))

describe('loadApp', () => {
  it('takes the named export `app`, else the default export, else the only Nenc instance', async () => {
    expect((await loadApp(fileURLToPath(new URL('./fixtures/app.mjs', import.meta.url)))).appId).toBeTypeOf(
      'string',
    )
    expect((await loadApp(fixture('default-export.mjs'))).appId).toBe('default-export')
    expect((await loadApp(pathToFileURL(fixture('only-instance.mjs')))).appId).toBe('only-instance')
  })

  it('names a missing file and where relative paths start', async () => {
    const err = await loadApp('./does/not/exist.ts').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppModuleError)
    expect((err as Error).message).toMatch(/does not exist; check the --app path \(relative to /)
  })

  it('says what to export when the module holds no Nenc app, or several', async () => {
    const none = await loadApp(fixture('no-app.mjs')).catch((e: unknown) => e)
    expect((none as Error).message).toContain('does not export a Nenc app (exports: answer, helper)')
    expect((none as Error).message).toContain('export const app = new Nenc')
    const two = await loadApp(fixture('two-apps.mjs')).catch((e: unknown) => e)
    expect((two as Error).message).toContain(
      'exports several Nenc apps (first, second); export the one to run as `app`',
    )
  })

  it('wraps an error thrown while importing, with the original as cause', async () => {
    const err = await loadApp(fixture('throws.mjs')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppModuleError)
    expect((err as Error).message).toContain('failed to load: database password missing')
    expect((err as Error).cause).toBeInstanceOf(Error)
  })
})

const [backend] = availableBackends(['redis', 'postgres'])

describe.skipIf(!backend)('TypeScript app modules', () => {
  it('a ProcessRunner child loads a .ts app module through tsx', async () => {
    process.env.NENC_TEST_APP_ID = `ts-${Date.now().toString(36)}`
    process.env.NENC_TEST_BACKEND = backend
    const mod = (await import(fixture('ts-app.ts'))) as {
      app: Nenc
      totalOf: (orders: { id: string; total: number }[]) => Promise<{ result(): Promise<number> }>
    }
    expect(isNencApp(mod.app)).toBe(true)
    const runner = bindRunner(
      mod.app,
      new ProcessRunner({ appModule: fixture('ts-app.ts'), maxProcesses: 1 }),
    )
    await runner.start()
    try {
      const inv = await mod.totalOf([
        { id: 'a', total: 2 },
        { id: 'b', total: 40 },
      ])
      expect(await inv.result()).toBe(42)
    } finally {
      await runner.stop()
      await mod.app.purge()
      await mod.app.close()
    }
  }, 60_000)
})
