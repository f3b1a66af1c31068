import { Nenc } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { afterEach, describe, expect, it } from 'vitest'
import { redisBackend } from '../src/index.js'
import { freshAppId, REDIS_URL, rawClient } from './helpers.js'

/** A corrupt stored record fails its invocation alone; the runner does not loop rerouting the batch. */
describe('a corrupt invocation record with a real runner', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })

  it('ends FAILED, its result rejects, its sibling succeeds, and its history stays short', async () => {
    const appId = freshAppId('corrupt-e2e')
    const app = new Nenc({
      appId,
      backend: redisBackend({ url: REDIS_URL }),
      runner: new ThreadRunner({ maxThreads: 4 }),
      env: {},
    })
    const t = app.task('echo', async (x: number) => x * 2)
    const raw = rawClient()
    cleanups.push(async () => {
      raw.disconnect()
      await app.purge()
      await app.close()
    })
    const bad = await t(1)
    const good = await t(2)
    await raw.set(`nenc:{${appId}}:s:rec:${bad.id}`, 'garbage, not JSON')
    await app.runner.start()
    expect(await good.result()).toBe(4)
    await expect(bad.result()).rejects.toThrow()
    // Core fails the one unreadable invocation with the backend's own CorruptDataError.
    await expect(bad.result()).rejects.toMatchObject({ remote: { name: 'CorruptDataError' } })
    expect(await bad.status()).toBe('failed')
    // Give a hot loop, were there one, time to show.
    await new Promise((r) => setTimeout(r, 300))
    expect(await bad.status()).toBe('failed')
    expect((await bad.history()).length).toBeLessThan(10)
  }, 20_000)
})
