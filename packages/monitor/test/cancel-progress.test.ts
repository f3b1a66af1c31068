import { context } from '@nenc/core'
import { memoryBackend } from '@nenc/memory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMonitorApp, type MonitorApp, resolveMonitorOptions } from '../src/index.js'
import { type MonitorFixture, monitorApp } from './fixture-app.js'

let f: MonitorFixture
let report: (label: string) => Promise<{ id: string; result(): Promise<unknown> }>
let monitor: MonitorApp
const logs: string[] = []
const LOCAL = { host: '127.0.0.1:8000' }

const get = (m: MonitorApp, path: string) => m.hono.request(path, { headers: LOCAL })
const text = async (m: MonitorApp, path: string) => {
  const res = await get(m, path)
  expect(res.status).toBe(200)
  return res.text()
}
const csrfOf = (page: string) => /<meta name="nenc-csrf" content="([^"]+)">/.exec(page)![1]!
const post = (m: MonitorApp, path: string, form: Record<string, string>) =>
  m.hono.request(path, { method: 'POST', body: new URLSearchParams(form), headers: LOCAL })
const statusOf = async (id: string) => (await f.app.backend.orchestrator.getStates([id]))[0]!.status
const actions = () => logs.map((l) => JSON.parse(l) as Record<string, unknown>)

beforeAll(async () => {
  f = monitorApp(`mon-cancel-${Date.now().toString(36)}`, memoryBackend())
  report = f.app.task('report', async (label: string) => {
    context().progress({ step: 3, of: 3, label })
    return label
  })
  await f.app.runner.start()
  monitor = createMonitorApp(f.app, resolveMonitorOptions({ log: (l) => logs.push(l), env: {} }))
})

afterAll(async () => {
  await monitor.close()
  await f.app.runner.stop()
  await f.app.close()
})

describe('cancel action (memory backend)', () => {
  it('cancels a scheduled call: status canceled, logged; the page offers Cancel only before it runs', async () => {
    const later = await f.add.schedule({ delayMs: 60_000 })(1, 2)
    const page = await text(monitor, `/invocations/${later.id}`)
    expect(page).toContain(`action="/actions/cancel/${later.id}"`)
    expect(page).toContain('data-confirm="Cancel this invocation? It will never run."')
    expect((await post(monitor, `/actions/cancel/${later.id}`, {})).status).toBe(403) // no CSRF token
    expect(await statusOf(later.id)).not.toBe('canceled')
    const res = await post(monitor, `/actions/cancel/${later.id}`, { _csrf: csrfOf(page) })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/invocations/${later.id}`)
    expect(await statusOf(later.id)).toBe('canceled')
    const after = await text(monitor, `/invocations/${later.id}`)
    expect(after).toContain('<span class="status st-canceled">canceled</span>')
    expect(after).not.toContain(`action="/actions/cancel/${later.id}"`)
    expect(actions()).toContainEqual(expect.objectContaining({ action: 'cancel', id: later.id }))
  })

  it('cancel of a finished invocation: core refusal shown (409), nothing changed', async () => {
    const done = await f.add(2, 2)
    expect(await done.result()).toBe(4)
    const page = await text(monitor, `/invocations/${done.id}`)
    expect(page).not.toContain(`action="/actions/cancel/${done.id}"`)
    const historyBefore = await f.app.backend.orchestrator.getHistory(done.id)
    const res = await post(monitor, `/actions/cancel/${done.id}`, { _csrf: csrfOf(page) })
    expect(res.status).toBe(409)
    const body = await res.text()
    expect(body).toContain(`Invocation ${done.id} cannot be canceled: it is success.`)
    expect(body).toContain(`<p id="back">back to <a class="mono" href="/invocations/${done.id}">`)
    expect(await statusOf(done.id)).toBe('success')
    expect(await f.app.backend.orchestrator.getHistory(done.id)).toEqual(historyBefore)
    expect(actions()).toContainEqual(
      expect.objectContaining({ action: 'cancel', id: done.id, refused: expect.stringContaining('success') }),
    )
  })

  it('cancel of an unknown id: refused with the reason', async () => {
    const csrf = csrfOf(await text(monitor, '/invocations'))
    const res = await post(monitor, '/actions/cancel/no-such-id', { _csrf: csrf })
    expect(res.status).toBe(409)
    expect(await res.text()).toContain('no-such-id')
  })

  it('cancel matching pending: cancels only the not-yet-running ones matching the filter', async () => {
    const waiting = await Promise.all([
      f.slow.schedule({ delayMs: 60_000 })(5),
      f.slow.schedule({ delayMs: 60_000 })(6),
    ])
    const otherTask = await f.add.schedule({ delayMs: 60_000 })(7, 7)
    const finished = await f.slow(1)
    await finished.result()
    const list = await text(monitor, `/invocations?task=${encodeURIComponent(f.slow.id)}`)
    expect(list).toContain('action="/actions/cancel-pending"')
    const res = await post(monitor, '/actions/cancel-pending', {
      _csrf: csrfOf(list),
      filter: `?task=${encodeURIComponent(f.slow.id)}`,
    })
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).toContain('Canceled 2 invocations that had not started running.')
    for (const w of waiting) expect(await statusOf(w.id)).toBe('canceled')
    expect(await statusOf(otherTask.id)).not.toBe('canceled')
    expect(await statusOf(finished.id)).toBe('success')
    expect(actions()).toContainEqual(
      expect.objectContaining({
        action: 'cancel-pending',
        count: 2,
        ids: expect.arrayContaining(waiting.map((w) => w.id)),
      }),
    )
    // A filter naming only statuses that cannot be canceled is refused with the reason.
    const bad = await post(monitor, '/actions/cancel-pending', {
      _csrf: csrfOf(list),
      filter: '?status=success',
    })
    expect(bad.status).toBe(409)
    expect(await bad.text()).toContain('can be canceled')
    await otherTask.cancel()
  })

  it('read-only: no Cancel buttons, and cancel POSTs are refused', async () => {
    const later = await f.add.schedule({ delayMs: 60_000 })(3, 4)
    const ro = createMonitorApp(f.app, resolveMonitorOptions({ readOnly: true, log: () => {}, env: {} }))
    try {
      const page = await text(ro, `/invocations/${later.id}`)
      expect(page).not.toContain('/actions/cancel')
      expect(await text(ro, '/invocations')).not.toContain('/actions/cancel-pending')
      const res = await post(ro, `/actions/cancel/${later.id}`, { _csrf: csrfOf(page) })
      expect(res.status).toBe(403)
      const bulk = await post(ro, '/actions/cancel-pending', { _csrf: csrfOf(page), filter: '' })
      expect(bulk.status).toBe(403)
      expect(await statusOf(later.id)).not.toBe('canceled')
    } finally {
      await ro.close()
      await later.cancel()
    }
  })
})

describe('progress on the invocation page (memory backend)', () => {
  it('shows the last reported value, its attempt and time, as escaped text', async () => {
    const inv = await report('<img src=x onerror=alert(1)>')
    await inv.result()
    const page = await text(monitor, `/invocations/${inv.id}`)
    const dd = /<dd id="inv-progress">([\s\S]*?)<\/dd>/.exec(page)![1]!
    expect(dd).toContain('&quot;step&quot;: 3')
    expect(dd).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(page).not.toContain('<img src=x')
    expect(dd).toMatch(/attempt 1, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/)
  })

  it('says none was reported when the task reported none; masked tasks hide the value', async () => {
    const plain = await f.add(1, 1)
    await plain.result()
    const page = await text(monitor, `/invocations/${plain.id}`)
    expect(/<dd id="inv-progress">([\s\S]*?)<\/dd>/.exec(page)![1]).toContain('none reported')
    const inv = await report('secret-label')
    await inv.result()
    const m = createMonitorApp(f.app, resolveMonitorOptions({ mask: ['report'], log: () => {}, env: {} }))
    try {
      const masked = await text(m, `/invocations/${inv.id}`)
      expect(masked).not.toContain('secret-label')
      expect(/<dd id="inv-progress">([\s\S]*?)<\/dd>/.exec(masked)![1]).toContain('masked by the monitor')
    } finally {
      await m.close()
    }
  })
})
