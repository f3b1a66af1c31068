import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Backend } from '@nenc/core'
import { postgresBackend } from '@nenc/postgres'
import { redisBackend } from '@nenc/redis'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningMonitor, startMonitor } from '../src/index.js'
import { type MonitorFixture, monitorApp, runSample } from './fixture-app.js'

/**
 * The monitor in a real browser: Debian's Chromium driven by playwright-core (no browser is
 * downloaded), against a Redis app, a PostgreSQL app and a mixed one (Redis orchestrator and
 * broker, PostgreSQL state backend) with real invocations run by a ThreadRunner. Screenshots of every view land in test-artifacts/<backend>/.
 */
const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
const REDIS_URL = process.env.NENC_REDIS_URL ?? 'redis://127.0.0.1:6379'
const PG_URL = process.env.NENC_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`)

const pg = () =>
  postgresBackend({ connectionString: PG_URL, schema: 'nenc_monitor_test', pollIntervalMs: 200 })
const BACKENDS: [string, () => Backend][] = [
  ['redis', () => redisBackend({ url: REDIS_URL })],
  ['postgres', pg],
  // Redis queues and coordinates, PostgreSQL keeps records and results (docs/index.md's mix).
  [
    'mixed',
    () => {
      const p = pg()
      return {
        ...redisBackend({ url: REDIS_URL }),
        stateBackend: p.stateBackend,
        clientDataStore: p.clientDataStore,
      }
    },
  ],
]

let browser: BrowserContext
let profile: string

beforeAll(async () => {
  if (!hasChromium) return
  profile = mkdtempSync(join(tmpdir(), 'nenc-monitor-chromium-'))
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 900 },
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

afterAll(async () => {
  await browser?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

for (const [name, create] of BACKENDS) {
  describe.skipIf(!hasChromium)(`monitor in Chromium over ${name}`, () => {
    let f: MonitorFixture
    let ids: Awaited<ReturnType<typeof runSample>>
    let monitor: RunningMonitor
    let page: Page
    const alerts: string[] = []
    const confirms: string[] = []
    const shot = async (view: string) => {
      mkdirSync(join(ARTIFACTS, name), { recursive: true })
      await page.screenshot({ path: join(ARTIFACTS, name, `${view}.png`), fullPage: true })
    }

    beforeAll(async () => {
      f = monitorApp(`mon-e2e-${name}-${Date.now().toString(36)}`, create())
      await f.app.runner.start()
      ids = await runSample(f)
      monitor = await startMonitor(f.app, { port: 0, log: () => {}, env: {} })
      page = await browser.newPage()
      // Action forms ask first: accept; any alert() would be injected script running: record it.
      page.on('dialog', (d) => {
        if (d.type() === 'alert') alerts.push(d.message())
        if (d.type() === 'confirm') confirms.push(d.message())
        void d.accept()
      })
    })

    afterAll(async () => {
      await page?.close()
      await monitor?.close()
      await f.app.runner.stop()
      await f.app.purge()
      await f.app.close()
    })

    it('overview: counts, queue depth, runners alive, recent failures', async () => {
      await page.goto(`${monitor.url}/`)
      await expect(page.locator('#runners-alive').textContent()).resolves.toBe('1')
      await expect(page.locator('#failures').textContent()).resolves.toContain(ids.failed)
      expect(await page.locator('#per-task').textContent()).toContain(f.add.id)
      await shot('overview')
    })

    it('invocations: filter by status in the form, then open one by clicking it', async () => {
      await page.goto(`${monitor.url}/invocations`)
      expect(await page.locator('#invocations tbody tr').count()).toBeGreaterThanOrEqual(7)
      await shot('invocations')
      await page.selectOption('select[name=status]', ['failed'])
      await page.click('form.filters button[type=submit]')
      await page.waitForURL(/status=failed/)
      const rows = page.locator('#invocations tbody tr')
      expect(await rows.count()).toBe(1)
      await page.click(`#invocations a[href="/invocations/${ids.failed}"]`)
      await page.waitForURL(`${monitor.url}/invocations/${ids.failed}`)
      expect(await page.locator('#error').textContent()).toMatch(/Error: boom user-42\s+at /)
      expect(await page.locator('#args').textContent()).toContain('"user-42"')
      await shot('invocation-failed')
    })

    it('one invocation: history timeline, children; an HTML-bearing result stays text', async () => {
      await page.goto(`${monitor.url}/invocations/${ids.parent}`)
      expect(await page.locator('#children li').count()).toBe(3)
      expect(await page.locator('#history li').count()).toBeGreaterThanOrEqual(4)
      await shot('invocation')
      await page.click('#wf-link')
      await page.waitForURL(`${monitor.url}/workflows/${ids.parent}`)
      expect(await page.locator('#wf-tree li').count()).toBe(4)
      expect(await page.locator('#wf-tree > li > ul > li').count()).toBe(3)
      await shot('workflow')
      await page.goto(`${monitor.url}/workflows`)
      await page.selectOption('select[name=type]', f.parent.id)
      await page.click('form.filters button[type=submit]')
      await page.waitForURL(/type=/)
      expect(await page.locator('#runs tbody tr').count()).toBe(1)
      await shot('workflows')
      await page.goto(`${monitor.url}/invocations/${ids.html}`)
      expect(await page.locator('#result').textContent()).toBe('<script>alert("mallory")</script><b>bold</b>')
      expect(await page.locator('#result script, #result b').count()).toBe(0)
      expect(alerts).toEqual([])
    })

    it('timeline across runners and runners', async () => {
      await page.goto(`${monitor.url}/timeline?minutes=30`)
      expect(await page.locator('#timeline rect.seg').count()).toBeGreaterThanOrEqual(7)
      await shot('timeline')
      await page.goto(`${monitor.url}/runners`)
      expect(await page.locator(`tr[id="${f.app.runner.runnerId}"]`).count()).toBe(1)
      await shot('runners')
    })

    it('triggers: declared triggers with their cron runs, and a stored event whose HTML stays text', async () => {
      await f.app.triggers.evaluate() // anchors the cron schedule
      const payload = { note: '<script>alert("event")</script><b>bold</b>', orderId: 'o-1' }
      const id = await f.app.emitEvent('note', payload)
      await page.goto(`${monitor.url}/`)
      await page.click('header nav a[href="/triggers"]')
      await page.waitForURL(`${monitor.url}/triggers`)
      expect(await page.locator('#triggers tbody tr').count()).toBe(2)
      const leap = page.locator('#triggers tr', { hasText: 'leapDay' })
      expect(await leap.locator('li[data-kind="cron"]').textContent()).toBe('cron cron "0 0 29 2 *" (UTC)')
      expect(await leap.locator('.next-run').textContent()).toMatch(/^20\d\d-02-29 00:00:00\.000$/)
      expect(await leap.locator('.last-run').textContent()).not.toBe('-')
      const paid = page.locator('#triggers tr', { hasText: 'onPaid' })
      expect(await paid.locator('li[data-kind="event"]').textContent()).toContain('event "order.paid" where')
      const row = page.locator(`#events tr[data-event="${id}"]`)
      expect(JSON.parse((await row.locator('pre.payload').textContent())!)).toEqual(payload)
      expect(await page.locator('#events script, #events b').count()).toBe(0)
      expect(alerts).toEqual([])
      await shot('triggers')
    })

    it('live update: an open invocation page turns SUCCESS when the backend says so', async () => {
      const inv = await f.slow(1500)
      await page.goto(`${monitor.url}/invocations/${inv.id}`)
      expect(await page.locator('#inv-status').textContent()).not.toBe('success')
      // No reload: the page's /events listener refreshes the section (a reload drops the mark).
      await page.evaluate('window.notReloaded = true')
      await page.locator('#inv-status .st-success').waitFor({ timeout: 20_000 })
      expect(await page.evaluate('window.notReloaded')).toBe(true)
      expect(Number(await page.locator('#live-count').textContent())).toBeGreaterThanOrEqual(1)
      expect(await page.locator('#result').textContent()).toBe('1500')
      // A list showing a running invocation refreshes its rows when it finishes.
      const listed = await f.slow(1500)
      await page.goto(`${monitor.url}/invocations?task=${encodeURIComponent(f.slow.id)}`)
      await page.evaluate('window.notReloaded = true')
      await page.locator(`tr[data-invocation="${listed.id}"] .st-success`).waitFor({ timeout: 20_000 })
      expect(await page.evaluate('window.notReloaded')).toBe(true)
    })

    it('re-run from the invocation page: a new invocation with the same arguments', async () => {
      await page.goto(`${monitor.url}/invocations/${ids.sum}`)
      await page.click('form.action[action^="/actions/rerun/"] button')
      await page.waitForURL((u) => u.pathname.startsWith('/invocations/') && !u.pathname.endsWith(ids.sum))
      const newId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!)
      expect(await f.app.invocation(newId).result()).toBe(5)
      const [fresh, old] = await f.app.backend.stateBackend.getInvocations([newId, ids.sum])
      expect(fresh!.args).toBe(old!.args)
    })

    it('retry every failed invocation matching a filter', async () => {
      await page.goto(`${monitor.url}/invocations?task=${encodeURIComponent(f.boom.id)}`)
      await page.click('form.action[action="/actions/retry-failed"] button')
      await page.waitForSelector('#done')
      expect(await page.locator('#done').textContent()).toBe('Re-ran 1 failed invocations.')
      const newId = await page.locator('#reran tbody tr td:nth-child(2) a').textContent()
      await expect(f.app.invocation(newId!).result()).rejects.toThrow('boom user-42')
      const [state] = await f.app.backend.orchestrator.getStates([newId!])
      expect(state!.status).toBe('failed')
    })

    let canceled = ''
    it('cancel a scheduled call from its page: confirmed, canceled in the backend, the button gone', async () => {
      const later = await f.add.schedule({ delayMs: 60_000 })(8, 9)
      await page.goto(`${monitor.url}/invocations/${later.id}`)
      await page.click(`form.action[action="/actions/cancel/${later.id}"] button`)
      await page.waitForSelector('#inv-status .st-canceled')
      expect(confirms.at(-1)).toBe('Cancel this invocation? It will never run.')
      expect(await later.status()).toBe('canceled')
      expect(await page.locator('form.action[action^="/actions/cancel/"]').count()).toBe(0)
      canceled = later.id
    })

    it('purge finished invocations created before a date: gone from the backend, unfinished kept', async () => {
      const running = await f.slow(2500)
      await page.goto(`${monitor.url}/invocations`)
      await page.fill('#purge input[name=before]', new Date(Date.now() + 120_000).toISOString().slice(0, 16))
      await page.click('#purge button')
      await page.waitForSelector('#done')
      expect(await page.locator('#done').textContent()).toMatch(/^Removed \d+ finished invocations/)
      const { orchestrator, stateBackend } = f.app.backend
      expect(await orchestrator.getStates([ids.sum, ids.failed, ids.html, canceled])).toEqual([
        null,
        null,
        null,
        null,
      ])
      expect(await stateBackend.getInvocations([ids.sum, ids.parent])).toEqual([null, null])
      expect(await orchestrator.listInvocations({ limit: 100 })).toEqual([running.id])
      expect(await running.result()).toBe(2500)
    })

    it('a non-loopback bind refuses requests without the token', async () => {
      // Cookies are per host, not per port: start from none (the other backend's run set one).
      await browser.clearCookies()
      const token = `browser-test-token-${name}-0123456789`
      const open = await startMonitor(f.app, { host: '0.0.0.0', port: 0, token, log: () => {}, env: {} })
      try {
        const base = `http://127.0.0.1:${open.port}`
        const refused = await page.goto(`${base}/invocations`)
        expect(refused!.status()).toBe(401)
        const allowed = await page.goto(`${base}/invocations?token=${token}`)
        expect(allowed!.status()).toBe(200)
        expect(page.url()).toBe(`${base}/invocations`)
        expect(await page.locator('#invocations').count()).toBe(1)
      } finally {
        await open.close()
      }
    })
  })
}
