import { randomUUID } from 'node:crypto'
import { Nenc, type TriggerListing } from '@nenc/core'
import { redisBackend } from '@nenc/redis'
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, nenc } from './helpers.js'

const REDIS = process.env.NENC_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** `nenc trigger list` and `nenc event emit` against a Redis app, read back from a second process. */
describe('nenc trigger list / event emit', () => {
  const apps: Nenc[] = []
  afterEach(async () => {
    for (const a of apps.splice(0)) {
      await a.purge()
      await a.close()
    }
  })

  function reader(appId: string): Nenc {
    const app = new Nenc({ appId, backend: redisBackend({ url: REDIS }), env: {} })
    apps.push(app)
    return app
  }

  it('lists each trigger with its conditions and the next cron run; text and --json', async () => {
    const appId = `cli-trg-${randomUUID().slice(0, 8)}`
    const r = await nenc(['trigger', 'list', '--app', fixture('triggers-app.mjs'), '--json'], {
      NENC_TEST_APP_ID: appId,
    })
    expect(r.code).toBe(0)
    const list = JSON.parse(r.stdout) as TriggerListing[]
    expect(list.map((t) => [t.taskName, t.conditions.map((c) => c.spec.kind)])).toEqual([
      ['report', ['cron']],
      ['report', ['exception']],
      ['onPaid', ['event']],
    ])
    const cron = list[0]!
    expect(cron.lastRun).toBeNull()
    // Monday 09:00 in Madrid, in the future.
    const next = new Date(cron.nextRun!)
    expect(next.getTime()).toBeGreaterThan(Date.now())
    expect(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Madrid',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
      }).format(next),
    ).toBe('Mon 09:00')
    expect(list[1]!.nextRun).toBeNull()
    const text = await nenc(['trigger', 'list', '--app', fixture('triggers-app.mjs')], {
      NENC_TEST_APP_ID: appId,
    })
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('- cron "0 9 * * 1" (Europe/Madrid)')
    expect(text.stdout).toContain('- exception of charge in [CardDeclinedError]')
    expect(text.stdout).toContain('- event "order.paid" where {"currency":"EUR"}')
    expect(text.stdout).toMatch(/last run -\s+next run \d{4}-/)
  }, 30_000)

  it('emits an event: stored for listing and matched against the app triggers', async () => {
    const appId = `cli-evt-${randomUUID().slice(0, 8)}`
    const env = { NENC_TEST_APP_ID: appId }
    const r = await nenc(
      [
        'event',
        'emit',
        'order.paid',
        '{"orderId":"o-1","currency":"EUR"}',
        '--app',
        fixture('triggers-app.mjs'),
      ],
      env,
    )
    expect(r.code).toBe(0)
    const id = r.stdout.trim()
    const other = await nenc(
      [
        'event',
        'emit',
        'order.paid',
        '{"orderId":"o-2","currency":"USD"}',
        '--json',
        '--app',
        fixture('triggers-app.mjs'),
      ],
      env,
    )
    expect(other.code).toBe(0)
    const otherId = (JSON.parse(other.stdout) as { eventId: string }).eventId
    const app = reader(appId)
    await app.ready()
    const events = await app.backend.triggerStore.listEvents()
    expect(events.map((e) => [e.id, e.code, JSON.parse(e.payload)])).toEqual([
      [otherId, 'order.paid', { orderId: 'o-2', currency: 'USD' }],
      [id, 'order.paid', { orderId: 'o-1', currency: 'EUR' }],
    ])
    // Only the EUR event satisfies the onPaid condition.
    const valid = await app.backend.triggerStore.getValidConditions()
    expect(valid.map((v) => v.id.endsWith(`@${id}`))).toEqual([true])
  }, 30_000)

  it('refuses a payload that is not JSON, with exit code 2', async () => {
    const r = await nenc(['event', 'emit', 'order.paid', '{nope', '--app', fixture('triggers-app.mjs')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^nenc: The event payload is not valid JSON/)
  })
})
