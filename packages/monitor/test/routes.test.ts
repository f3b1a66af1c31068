import { ConfigError } from '@nenc/core'
import { memoryBackend } from '@nenc/memory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMonitorApp, type MonitorApp, resolveMonitorOptions } from '../src/index.js'
import { type MonitorFixture, monitorApp, runSample } from './fixture-app.js'

let f: MonitorFixture
let ids: Awaited<ReturnType<typeof runSample>>
let monitor: MonitorApp
const logs: string[] = []
const LOCAL = { host: '127.0.0.1:8000' }

const get = (m: MonitorApp, path: string, headers: Record<string, string> = LOCAL) =>
  m.hono.request(path, { headers })
const text = async (m: MonitorApp, path: string) => {
  const res = await get(m, path)
  expect(res.status).toBe(200)
  return res.text()
}
const csrfOf = (page: string) => /<meta name="nenc-csrf" content="([^"]+)">/.exec(page)![1]!
const post = (
  m: MonitorApp,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = LOCAL,
) => m.hono.request(path, { method: 'POST', body: new URLSearchParams(form), headers })

beforeAll(async () => {
  f = monitorApp(`mon-routes-${Date.now().toString(36)}`, memoryBackend())
  await f.app.runner.start()
  ids = await runSample(f)
  monitor = createMonitorApp(f.app, resolveMonitorOptions({ log: (l) => logs.push(l), env: {} }))
})

afterAll(async () => {
  await monitor.close()
  await f.app.runner.stop()
  await f.app.close()
})

describe('monitor routes (memory backend)', () => {
  it('overview: counts per status and task, queue depth, runners, recent failures; security headers', async () => {
    const res = await get(monitor, '/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const page = await res.text()
    expect(page).toMatch(/<span class="n" id="queue-depth">0<\/span>/)
    expect(page).toMatch(/<span class="n" id="runners-alive">1<\/span>/)
    expect(page).toContain('href="/invocations?task=')
    expect(page).toMatch(/id="failures"[\s\S]*href="\/invocations\/[^"]+"/)
    expect(page).toContain(ids.failed)
    // parent + 3 children + sum = 5 successful `add`/`parent` runs, 1 markup: 6 success in all.
    expect(page).toMatch(/<span class="n">6<\/span> <span class="status st-success">success<\/span>/)
  })

  it('overview: one backend read serves every page for 10 s', async () => {
    const m = createMonitorApp(f.app, resolveMonitorOptions({ log: () => {}, env: {} }))
    const o = f.app.backend.orchestrator
    let counts = 0
    const original = o.countInvocations.bind(o)
    o.countInvocations = async (q) => {
      counts++
      return original(q)
    }
    try {
      await text(m, '/')
      const perRead = counts
      expect(perRead).toBe(24) // one count per hour of the window
      await Promise.all([text(m, '/'), text(m, '/'), text(m, '/')])
      expect(counts).toBe(perRead)
    } finally {
      o.countInvocations = original
      await m.close()
    }
  })

  it('invocations: filters by task, status, argument text, workflow and parent; ids link to their page', async () => {
    const all = await text(monitor, '/invocations')
    for (const id of Object.values(ids)) expect(all).toContain(`/invocations/${id}`)
    const failed = await text(monitor, '/invocations?status=failed')
    expect(failed).toContain(ids.failed)
    expect(failed).not.toContain(ids.sum)
    const byTask = await text(monitor, `/invocations?task=${encodeURIComponent(f.add.id)}`)
    expect(byTask.match(/<tr data-invocation=/g)).toHaveLength(4)
    const byArg = await text(monitor, '/invocations?arg=user-42')
    expect(byArg.match(/<tr data-invocation=/g)).toHaveLength(1)
    expect(byArg).toContain(ids.failed)
    const kids = await text(monitor, `/invocations?parent=${ids.parent}`)
    expect(kids.match(/<tr data-invocation=/g)).toHaveLength(3)
    const wf = await text(monitor, `/invocations?workflow=${ids.parent}&status=success`)
    expect(wf.match(/<tr data-invocation=/g)).toHaveLength(4)
    const future = await text(monitor, `/invocations?from=${Date.now() + 60_000}`)
    expect(future).toContain('id="empty"')
  })

  it('invocations: pages with a cursor, then ends', async () => {
    for (let i = 0; i < 30; i++) await f.add(i, i)
    const first = await text(monitor, `/invocations?task=${encodeURIComponent(f.add.id)}`)
    expect(first.match(/<tr data-invocation=/g)).toHaveLength(25)
    const next = /id="next-page" href="([^"]+)"/.exec(first)![1]!.replaceAll('&amp;', '&')
    const second = await text(monitor, next)
    expect(second.match(/<tr data-invocation=/g)).toHaveLength(9)
    expect(second).toContain('end of the list')
    const firstIds = [...first.matchAll(/data-invocation="([^"]+)"/g)].map((m) => m[1])
    const secondIds = [...second.matchAll(/data-invocation="([^"]+)"/g)].map((m) => m[1])
    expect(new Set([...firstIds, ...secondIds]).size).toBe(34)
  })

  it('bad filters are a 400 page naming the parameter', async () => {
    const bad = await get(monitor, '/invocations?status=nope')
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('Bad &quot;status&quot; parameter')
    const cursor = await get(monitor, '/invocations?cursor=garbage')
    expect(cursor.status).toBe(400)
    expect(await cursor.text()).toContain('cursor')
  })

  it('one invocation: history with attempt and actor, arguments, result, family; HTML stays text', async () => {
    const page = await text(monitor, `/invocations/${ids.html}`)
    expect(page).toContain('&lt;script&gt;alert(&quot;mallory&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;')
    expect(page).not.toContain('<script>alert')
    expect(page).not.toContain('<b>bold</b>')
    expect(page).toMatch(
      /<ol class="timeline" id="history">[\s\S]*st-registered[\s\S]*st-pending[\s\S]*st-running[\s\S]*st-success/,
    )
    expect(page).toMatch(/attempt 1/)
    const parent = await text(monitor, `/invocations/${ids.parent}`)
    expect(parent.match(/<ul id="children">[\s\S]*?<\/ul>/)![0].match(/<li>/g)).toHaveLength(3)
  })

  it('a workflow run as a tree: the root, its children nested under it; unknown run 404', async () => {
    const page = await text(monitor, `/workflows/${ids.parent}`)
    expect(page).toContain('<dd id="wf-size">4 ·')
    const tree = /<ul class="tree" id="wf-tree">([\s\S]*)<\/ul>\s*<\/section>/.exec(page)![1]!
    expect(tree.match(/<li data-invocation=/g)).toHaveLength(4)
    // One root (the parent), three nested items.
    expect(tree.trimStart().startsWith(`<li data-invocation="${ids.parent}">`)).toBe(true)
    expect(tree.match(/<ul><li data-invocation=/g)).toHaveLength(1)
    expect(
      (await text(monitor, `/invocations/${ids.parent}`)).includes(
        `id="wf-link" href="/workflows/${ids.parent}"`,
      ),
    ).toBe(true)
    expect((await get(monitor, '/workflows/nope')).status).toBe(404)
  })

  it('workflow runs by type: roots of that task only, linked to their tree', async () => {
    const byParent = await text(monitor, `/workflows?type=${encodeURIComponent(f.parent.id)}`)
    expect([...byParent.matchAll(/<tr data-invocation="([^"]+)"/g)].map((m) => m[1])).toEqual([ids.parent])
    expect(byParent).toContain(`href="/workflows/${ids.parent}"`)
    // `add` ran as children (not runs of their own) and once from outside a task (a run).
    const runs: string[] = []
    let href: string | undefined = `/workflows?type=${encodeURIComponent(f.add.id)}`
    while (href) {
      const p = await text(monitor, href)
      runs.push(...[...p.matchAll(/<tr data-invocation="([^"]+)"/g)].map((m) => m[1]!))
      href = /id="next-page" href="([^"]+)"/.exec(p)?.[1]?.replaceAll('&amp;', '&')
    }
    expect(runs).toContain(ids.sum)
    const kids = await f.app.backend.stateBackend.getChildInvocations(ids.parent)
    expect(kids).toHaveLength(3)
    for (const k of kids) expect(runs).not.toContain(k)
    expect(await text(monitor, '/workflows')).toContain('Pick a workflow type')
  })

  it('a failed invocation shows its error with the stack', async () => {
    const page = await text(monitor, `/invocations/${ids.failed}`)
    expect(page).toMatch(
      /<pre class="value error" id="error"><b>Error<\/b>: boom user-42\n\s+at .*fixture-app\.ts/,
    )
  })

  it('unknown id: 404; the search box redirects to the id', async () => {
    expect((await get(monitor, '/invocations/nope')).status).toBe(404)
    const res = await get(monitor, `/search?id=${ids.sum}`)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/invocations/${ids.sum}`)
  })

  it('runners and timeline list the runner that ran the attempts', async () => {
    const runnerId = f.app.runner.runnerId
    expect(await text(monitor, '/runners')).toContain(`<tr id="${runnerId}"`)
    const timeline = await text(monitor, '/timeline?minutes=30')
    expect(timeline).toContain(runnerId)
    expect(timeline).toMatch(/<rect class="seg st-success"/)
    expect(timeline).toMatch(/<line class="link"/)
  })

  it('runners: a pool runner is shown above its child processes, with atomic-service slots', async () => {
    const { orchestrator, stateBackend } = f.app.backend
    const pool = `Pool-${Date.now().toString(36)}`
    const child = `${pool}-child-1`
    await orchestrator.heartbeat([pool], true)
    await orchestrator.heartbeat([child], false)
    const ctx = { pid: 4242, hostname: 'host-a', startedAt: Date.now() }
    await stateBackend.storeRunnerContext({
      runnerId: pool,
      runnerClass: 'MultiThreadRunner',
      parentRunnerId: null,
      ...ctx,
    })
    await stateBackend.storeRunnerContext({
      runnerId: child,
      runnerClass: 'ThreadRunner',
      parentRunnerId: pool,
      ...ctx,
    })
    const page = await text(monitor, '/runners')
    const rows = [...page.matchAll(/<tr id="([^"]+)" class="depth-(\d)">/g)].map((m) => [m[1], m[2]])
    const at = rows.findIndex(([id]) => id === pool)
    expect(rows[at]).toEqual([pool, '0'])
    expect(rows[at + 1]).toEqual([child, '1'])
    expect(page).toMatch(
      new RegExp(
        `<tr id="${pool}"[\\s\\S]*?host-a pid 4242[\\s\\S]*?slot 2 of 2: \\d+–\\d+ ms of every \\d+ ms`,
      ),
    )
  })

  it('re-run: refused without the CSRF token; with it a new invocation with the same arguments, logged', async () => {
    expect((await post(monitor, `/actions/rerun/${ids.sum}`, {})).status).toBe(403)
    const csrf = csrfOf(await text(monitor, `/invocations/${ids.sum}`))
    const crossSite = await post(
      monitor,
      `/actions/rerun/${ids.sum}`,
      { _csrf: csrf },
      { ...LOCAL, origin: 'http://evil.example' },
    )
    expect(crossSite.status).toBe(403)
    const res = await post(monitor, `/actions/rerun/${ids.sum}`, { _csrf: csrf })
    expect(res.status).toBe(303)
    const newId = res.headers.get('location')!.split('/').pop()!
    expect(newId).not.toBe(ids.sum)
    expect(await f.app.invocation(newId).result()).toBe(5)
    const [rec] = await f.app.backend.stateBackend.getInvocations([newId])
    const [old] = await f.app.backend.stateBackend.getInvocations([ids.sum])
    expect(rec!.args).toBe(old!.args)
    expect(logs.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ action: 'rerun', id: ids.sum, newId }),
    )
  })

  it('retry failed matching a filter: each failed one re-run once', async () => {
    const csrf = csrfOf(await text(monitor, '/invocations'))
    const res = await post(monitor, '/actions/retry-failed', {
      _csrf: csrf,
      filter: `?task=${encodeURIComponent(f.boom.id)}`,
    })
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).toContain('Re-ran 1 failed invocations.')
    const fresh = [...page.matchAll(/<td><a class="mono" href="\/invocations\/([^"]+)"/g)].map((m) => m[1]!)
    expect(fresh[0]).toBe(ids.failed)
    await expect(f.app.invocation(fresh[1]!).result()).rejects.toThrow('boom user-42')
    expect(logs.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ action: 'retry-failed', count: 1 }),
    )
  })

  it('re-run of a task the loaded app does not define is refused with the reason', async () => {
    const other = monitorApp(f.app.appId, f.app.backend)
    const lone = createMonitorApp(
      Object.assign(Object.create(Object.getPrototypeOf(other.app)), other.app, { getTask: () => undefined }),
      resolveMonitorOptions({ log: () => {}, env: {} }),
    )
    const csrf = csrfOf(await text(lone, '/'))
    const res = await post(lone, `/actions/rerun/${ids.sum}`, { _csrf: csrf })
    expect(res.status).toBe(409)
    expect(await res.text()).toContain('is not defined in the app the monitor loaded')
    await lone.close()
  })

  it('triggers: conditions, last and next cron run, stored events newest first with HTML as text', async () => {
    await f.app.triggers.evaluate() // anchors the cron schedule: its "last run"
    const note = await f.app.emitEvent('note', { html: '<script>alert("x")</script><b>bold</b>' })
    const other = await f.app.emitEvent('audit', { by: 'ops' })
    const page = await text(monitor, '/triggers')
    expect(page).toContain('<a href="/triggers" class="active">Triggers</a>')
    const rows = [...page.matchAll(/<tr id="trigger-[^"]+">([\s\S]*?)<\/tr>/g)].map((m) => m[1]!)
    expect(rows).toHaveLength(2)
    const paid = rows.find((r) => r.includes('<td>onPaid</td>'))!
    expect(paid).toContain(
      '<span class="kind">event</span> event &quot;order.paid&quot; where {&quot;currency&quot;:&quot;EUR&quot;}',
    )
    expect(paid).toMatch(/<td class="last-run">-<\/td>\s*<td class="next-run">-<\/td>/)
    const leap = rows.find((r) => r.includes('<td>leapDay</td>'))!
    expect(leap).toContain('cron &quot;0 0 29 2 *&quot; (UTC)')
    const [listed] = await f.app.triggers.list().then((l) => l.filter((t) => t.taskName === 'leapDay'))
    expect(listed!.lastRun).not.toBeNull()
    expect(leap).toContain(
      `<td class="last-run">${new Date(listed!.lastRun!).toISOString().replace('T', ' ').replace('Z', '')}</td>`,
    )
    expect(leap).toMatch(/<td class="next-run">20\d\d-02-29 00:00:00.000<\/td>/)
    // Events newest first; the payload's markup is escaped text, never elements.
    const events = [...page.matchAll(/<tr data-event="([^"]+)">/g)].map((m) => m[1])
    expect(events.slice(0, 2)).toEqual([other, note])
    expect(page).toContain('&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;')
    expect(page).not.toContain('<script>alert')
    expect(page).not.toContain('<b>bold')
    // Filter by code, and a limit.
    const notes = await text(monitor, '/triggers?code=note')
    expect([...notes.matchAll(/<tr data-event="([^"]+)">/g)].map((m) => m[1])).toEqual([note])
    const one = await text(monitor, '/triggers?limit=1')
    expect([...one.matchAll(/<tr data-event="([^"]+)">/g)].map((m) => m[1])).toEqual([other])
    expect(one).toContain('id="events-limited"')
    expect(await text(monitor, '/triggers?code=none')).toContain('No stored event of code "none".')
    const bad = await get(monitor, '/triggers?limit=abc')
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain(
      'Bad &quot;limit&quot; parameter: must be a whole number from 1 to 500',
    )
  })
})

describe('purge finished invocations (memory backend, an app of its own)', () => {
  it('removes every finished invocation created before the date, keeps the unfinished, logs', async () => {
    const g = monitorApp(`mon-purge-${Date.now().toString(36)}`, memoryBackend())
    await g.app.runner.start()
    const lines: string[] = []
    const m = createMonitorApp(g.app, resolveMonitorOptions({ log: (l) => lines.push(l), env: {} }))
    try {
      const done = await runSample(g)
      const running = await g.slow(1500)
      const csrf = csrfOf(await text(m, '/invocations'))
      const bad = await post(m, '/actions/purge', { _csrf: csrf, before: 'someday' })
      expect(bad.status).toBe(400)
      const before = new Date(Date.now() + 120_000).toISOString().slice(0, 16) // as a datetime-local input sends it
      const res = await post(m, '/actions/purge', { _csrf: csrf, before })
      expect(res.status).toBe(200)
      // sum, failed, html, parent and its 3 children
      expect(await res.text()).toContain('Removed 7 finished invocations')
      const { orchestrator, stateBackend } = g.app.backend
      expect(await orchestrator.getStates(Object.values(done))).toEqual([null, null, null, null])
      expect(await stateBackend.getInvocations(Object.values(done))).toEqual([null, null, null, null])
      expect(await stateBackend.getOutcomes([{ id: done.sum, attempt: 1 }])).toEqual([null])
      expect((await orchestrator.getStates([running.id]))[0]!.status).not.toBe('success')
      expect(await orchestrator.listInvocations({})).toEqual([running.id])
      expect(lines.map((l) => JSON.parse(l))).toContainEqual(
        expect.objectContaining({ action: 'purge', removed: 7 }),
      )
      expect(await running.result()).toBe(1500)
    } finally {
      await m.close()
      await g.app.runner.stop()
      await g.app.close()
    }
  })
})

describe('monitor safety', () => {
  it('read-only: no action forms, and action POSTs are refused', async () => {
    const ro = createMonitorApp(f.app, resolveMonitorOptions({ readOnly: true, log: () => {}, env: {} }))
    const page = await text(ro, `/invocations/${ids.sum}`)
    expect(page).not.toContain('<form class="action"')
    expect(page).toContain('read-only')
    const res = await post(ro, `/actions/rerun/${ids.sum}`, { _csrf: csrfOf(page) })
    expect(res.status).toBe(403)
    await ro.close()
  })

  it('masked tasks: arguments, results and error messages hidden, never matched by the argument filter', async () => {
    const m = createMonitorApp(
      f.app,
      resolveMonitorOptions({ mask: ['markup', 'boom'], log: () => {}, env: {} }),
    )
    const html = await text(m, `/invocations/${ids.html}`)
    expect(html).not.toContain('mallory')
    expect(html).toContain('masked by the monitor')
    const failed = await text(m, `/invocations/${ids.failed}`)
    expect(failed).not.toContain('user-42')
    expect(failed).toContain('<b>Error</b>: ••• masked')
    expect(await text(m, '/invocations?arg=user-42')).toContain('id="empty"')
    // Unmasked tasks show as before.
    expect(await text(m, `/invocations/${ids.sum}`)).toMatch(/<pre class="value" id="result">5<\/pre>/)
    await m.close()
  })

  it('with a token every request needs it (bearer, cookie, or ?token= once)', async () => {
    const token = 'a-long-enough-secret-token'
    const m = createMonitorApp(
      f.app,
      resolveMonitorOptions({ host: '0.0.0.0', token, log: () => {}, env: {} }),
    )
    const remote = { host: 'monitor.internal:8000' }
    expect((await get(m, '/', remote)).status).toBe(401)
    expect((await get(m, '/assets/monitor.js', remote)).status).toBe(401)
    expect((await get(m, '/events', remote)).status).toBe(401)
    expect(
      (await get(m, '/', { ...remote, authorization: 'Bearer wrong-token-of-some-length' })).status,
    ).toBe(401)
    expect((await get(m, '/', { ...remote, authorization: `Bearer ${token}` })).status).toBe(200)
    const login = await get(m, `/invocations?status=failed&token=${token}`, remote)
    expect(login.status).toBe(303)
    expect(login.headers.get('location')).toBe('/invocations?status=failed')
    const cookie = login.headers.get('set-cookie')!
    expect(cookie).toMatch(/HttpOnly/i)
    expect((await get(m, '/runners', { ...remote, cookie: cookie.split(';')[0]! })).status).toBe(200)
    await m.close()
  })

  it('without a token: only loopback binds, and only loopback Host headers (no DNS rebinding)', async () => {
    expect(() => resolveMonitorOptions({ host: '0.0.0.0', env: {} })).toThrow(ConfigError)
    expect(() => resolveMonitorOptions({ host: '192.168.1.5', env: {} })).toThrow(/not a loopback address/)
    expect(
      resolveMonitorOptions({ host: '0.0.0.0', env: { NENC__MONITOR__TOKEN: 'x'.repeat(20) } }).token,
    ).toBe('x'.repeat(20))
    expect(() => resolveMonitorOptions({ token: 'short', env: {} })).toThrow(/16 characters/)
    expect((await get(monitor, '/', { host: 'attacker.example' })).status).toBe(403)
    expect((await get(monitor, '/', { host: 'localhost:8000' })).status).toBe(200)
  })

  it('no page polls faster than every 5 s: overview and runners every 10 s, the rest not at all', async () => {
    const pages = ['/', '/invocations', `/invocations/${ids.sum}`, '/timeline', '/runners', '/triggers']
    const triggers = new Map<string, string[]>()
    for (const p of pages)
      triggers.set(
        p,
        [...(await text(monitor, p)).matchAll(/hx-trigger="([^"]+)"/g)].map((m) => m[1]!),
      )
    expect(triggers.get('/')).toEqual(['every 10s'])
    expect(triggers.get('/runners')).toEqual(['every 10s'])
    for (const p of ['/invocations', `/invocations/${ids.sum}`, '/timeline', '/triggers'])
      expect(triggers.get(p)).toEqual([])
    const script = await (await get(monitor, '/assets/monitor.js')).text()
    expect(script).not.toMatch(/setInterval|setTimeout/)
  })

  it('assets are served by the package: htmx and the monitor script, no CDN', async () => {
    const htmx = await get(monitor, '/assets/htmx.min.js')
    expect(htmx.status).toBe(200)
    expect(await htmx.text()).toContain('htmx')
    const page = await text(monitor, '/')
    expect(page).not.toMatch(/src="https?:/)
    expect(page).not.toMatch(/href="https?:/)
  })

  it('live updates: /events streams the ids that reach a final status', async () => {
    const res = await get(monitor, '/events')
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let seen = ''
    const read = async (until: (s: string) => boolean) => {
      while (!until(seen)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended: ${seen}`)
        seen += decoder.decode(value)
      }
    }
    await read((s) => s.includes('event: ready'))
    expect(seen).toContain('retry: 5000')
    const inv = await f.add(40, 2)
    await read((s) => s.includes(inv.id))
    expect(seen).toMatch(new RegExp(`event: final\\ndata: \\[[^\\]]*"${inv.id}"`))
    await reader.cancel()
  })
})
