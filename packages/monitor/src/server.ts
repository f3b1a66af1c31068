import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { InvalidQueryError, type Nenc } from '@nenc/core'
import { type Context, Hono } from 'hono'
import { html } from 'hono/html'
import { streamSSE } from 'hono/streaming'
import { ActionError, purgeFinished, rerun, retryFailed } from './actions.js'
import { MONITOR_CSS } from './assets/monitor-css.js'
import { MONITOR_JS } from './assets/monitor-js.js'
import { cancelMatching, cancelOne } from './cancel.js'
import { FilterError, filterQuery, parseFilters, parseTime } from './filters.js'
import { FinalHub } from './final-hub.js'
import type { ResolvedMonitorOptions } from './options.js'
import { masked, readInvocation } from './read/invocation.js'
import { listPage } from './read/listing.js'
import { readOverview, readRunners } from './read/overview.js'
import { readTimeline } from './read/timeline.js'
import { parseEventLimit, readTriggers } from './read/triggers.js'
import { readRuns, readWorkflow } from './read/workflow.js'
import { authenticate, checkCsrf, newCsrfToken, securityHeaders } from './security.js'
import { invocationView } from './views/invocation.js'
import { invocationsView } from './views/invocations.js'
import { type Html, invocationLink, layout, type PageContext } from './views/layout.js'
import { overviewView } from './views/overview.js'
import { runnersView } from './views/runners.js'
import { timelineView } from './views/timeline.js'
import { triggersView } from './views/triggers.js'
import { runsView, workflowView } from './views/workflow.js'

/** htmx, read once from the installed `htmx.org` package and served by the monitor itself. */
const HTMX = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'), 'utf8')

export interface MonitorApp {
  /** The Hono app (its `fetch` answers every route; tests call it directly). */
  hono: Hono
  /** Ends the live-update subscription. */
  close(): Promise<void>
}

/**
 * The monitor's routes over one app. Everything is read through the app's component interfaces
 * (orchestrator, state backend, broker), so it works on any backend and on mixed ones.
 */
export function createMonitorApp(app: Nenc, options: ResolvedMonitorOptions): MonitorApp {
  const csrf = newCsrfToken()
  const ctx: PageContext = { appId: app.appId, csrf, readOnly: options.readOnly }
  const hub = new FinalHub(app.backend.orchestrator)
  const hono = new Hono()
  const page = (c: Context, title: string, active: string, body: Html, status = 200) =>
    c.html(layout(ctx, title, active, body), status as 200)
  const logAction = (action: string, detail: Record<string, unknown>) =>
    options.log(
      JSON.stringify({ monitor: 'action', at: new Date().toISOString(), app: app.appId, action, ...detail }),
    )

  hono.use('*', securityHeaders)
  hono.use('*', authenticate(options.token))
  hono.use('*', checkCsrf(csrf))
  hono.use('*', async (_c, next) => {
    await app.ready()
    return next()
  })

  hono.onError((err, c) => {
    if (err instanceof FilterError || err instanceof InvalidQueryError) {
      return page(c, 'Bad request', '', html`<p class="notice error" id="error">${err.message}</p>`, 400)
    }
    if (err instanceof ActionError) {
      return page(c, 'Action refused', '', html`<p class="notice error" id="error">${err.message}</p>`, 409)
    }
    options.log(JSON.stringify({ monitor: 'error', at: new Date().toISOString(), message: String(err) }))
    return page(
      c,
      'Error',
      '',
      html`<p class="notice error" id="error">The monitor could not read the backend: ${String(err)}</p>`,
      500,
    )
  })

  hono.get('/assets/htmx.min.js', (c) =>
    c.body(HTMX, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
  )
  hono.get('/assets/monitor.js', (c) =>
    c.body(MONITOR_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
  )
  hono.get('/assets/monitor.css', (c) =>
    c.body(MONITOR_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }),
  )

  // One overview read per 10 s whatever the number of open pages: on Redis, counting reads every
  // invocation of the window.
  let overview: { at: number; value: ReturnType<typeof readOverview> } | null = null
  hono.get('/', async (c) => {
    if (!overview || Date.now() - overview.at >= OVERVIEW_TTL_MS) {
      const value = readOverview(app, options.overviewHours)
      overview = { at: Date.now(), value }
      value.catch(() => {
        if (overview?.value === value) overview = null
      })
    }
    return page(c, 'Overview', '/', overviewView(ctx, await overview.value))
  })

  hono.get('/invocations', async (c) => {
    const f = parseFilters(
      (n) => c.req.query(n),
      (n) => c.req.queries(n) ?? [],
    )
    const result = await listPage(app, f, undefined, options.mask)
    return page(
      c,
      'Invocations',
      '/invocations',
      invocationsView(ctx, f, result, app.taskNames().map(taskIdOf(app))),
    )
  })

  hono.get('/search', (c) => {
    const id = (c.req.query('id') ?? '').trim()
    return c.redirect(id ? `/invocations/${encodeURIComponent(id)}` : '/invocations', 303)
  })

  hono.get('/invocations/:id', async (c) => {
    const id = c.req.param('id')
    const detail = await readInvocation(app, id)
    if (!detail) {
      return page(
        c,
        'Not found',
        '/invocations',
        html`<p class="notice error" id="error">No invocation ${id} in app "${app.appId}".</p>`,
        404,
      )
    }
    const shown = detail.record && options.mask.has(detail.record.taskName) ? masked(detail) : detail
    return page(c, `Invocation ${id}`, '/invocations', invocationView(ctx, shown))
  })

  hono.get('/workflows', async (c) => {
    const type = c.req.query('type') || undefined
    const runs = type ? await readRuns(app, type, c.req.query('cursor') || null) : null
    const types = app.taskNames().map(taskIdOf(app))
    return page(c, 'Workflow runs', '/workflows', runsView(ctx, types, type, runs))
  })

  hono.get('/workflows/:id', async (c) => {
    const id = c.req.param('id')
    const run = await readWorkflow(app, id)
    if (!run) {
      return page(
        c,
        'Not found',
        '/invocations',
        html`<p class="notice error" id="error">No workflow ${id} in app "${app.appId}".</p>`,
        404,
      )
    }
    return page(c, `Workflow ${id}`, '/workflows', workflowView(ctx, run))
  })

  hono.get('/timeline', async (c) => {
    const minutes = Math.min(1440, Math.max(1, Number(c.req.query('minutes') ?? 15) || 15))
    const t = await readTimeline(app, Date.now() - minutes * 60_000, 300)
    return page(c, 'Timeline across runners', '/timeline', timelineView(ctx, t, minutes))
  })

  hono.get('/runners', async (c) => page(c, 'Runners', '/runners', runnersView(ctx, await readRunners(app))))

  hono.get('/triggers', async (c) => {
    const limit = parseEventLimit(c.req.query('limit'))
    const code = (c.req.query('code') ?? '').trim() || undefined
    return page(c, 'Triggers', '/triggers', triggersView(ctx, await readTriggers(app, code, limit)))
  })

  hono.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      let stop = () => {}
      const done = new Promise<void>((resolve) => {
        stream.onAbort(() => resolve())
      })
      stop = await hub.add((ids) => {
        void stream.writeSSE({ event: 'final', data: JSON.stringify(ids) })
      })
      // A reconnecting EventSource waits 5 s: no page asks the server more often than that.
      await stream.writeSSE({ event: 'ready', data: '{}', retry: 5000 })
      const keepAlive = setInterval(() => void stream.writeSSE({ event: 'ping', data: '' }), 25_000)
      await done
      clearInterval(keepAlive)
      stop()
    }),
  )

  // Actions: POST only, CSRF-checked above, refused in read-only mode, each logged.
  hono.use('/actions/*', async (c, next) => {
    if (options.readOnly) return c.text('Forbidden: the monitor runs read-only.', 403)
    return next()
  })

  hono.post('/actions/rerun/:id', async (c) => {
    const id = c.req.param('id')
    const newId = await rerun(app, id)
    logAction('rerun', { id, newId })
    return c.redirect(`/invocations/${encodeURIComponent(newId)}`, 303)
  })

  hono.post('/actions/cancel/:id', async (c) => {
    const id = c.req.param('id')
    try {
      await cancelOne(app, id)
    } catch (err) {
      if (!(err instanceof ActionError)) throw err
      // Core's refusal (it runs or ran) is the answer, with the way back to the invocation.
      logAction('cancel', { id, refused: err.message })
      return page(
        c,
        'Cancel refused',
        '/invocations',
        html`<p class="notice error" id="error">${err.message}</p><p id="back">back to ${invocationLink(id)}</p>`,
        409,
      )
    }
    logAction('cancel', { id })
    return c.redirect(`/invocations/${encodeURIComponent(id)}`, 303)
  })

  hono.post('/actions/cancel-pending', async (c) => {
    const body = await c.req.parseBody()
    const query = new URLSearchParams(typeof body.filter === 'string' ? body.filter : '')
    const f = parseFilters(
      (n) => query.get(n) ?? undefined,
      (n) => query.getAll(n),
    )
    const done = await cancelMatching(app, { ...f, cursor: undefined }, options.mask)
    logAction('cancel-pending', {
      filter: filterQuery(f),
      count: done.canceled.length,
      ids: done.canceled,
      refused: done.refused.map((r) => r.id),
    })
    return page(
      c,
      'Canceled invocations',
      '/invocations',
      html`<p class="notice" id="done">Canceled ${done.canceled.length} invocations that had not started running.</p>
<ul id="canceled">${done.canceled.map((id) => html`<li>${invocationLink(id)}</li>`)}</ul>
${
  done.refused.length === 0
    ? ''
    : html`<p class="notice error">${done.refused.length} started running before their cancel and were left as they are:</p>
<ul id="refused">${done.refused.map((r) => html`<li>${invocationLink(r.id)}: ${r.reason}</li>`)}</ul>`
}`,
    )
  })

  hono.post('/actions/retry-failed', async (c) => {
    const body = await c.req.parseBody()
    const query = new URLSearchParams(typeof body.filter === 'string' ? body.filter : '')
    const f = parseFilters(
      (n) => query.get(n) ?? undefined,
      (n) => query.getAll(n),
    )
    const reran = await retryFailed(app, { ...f, cursor: undefined }, options.mask)
    logAction('retry-failed', { filter: filterQuery(f), count: reran.size, ids: Object.fromEntries(reran) })
    return page(
      c,
      'Re-ran failed invocations',
      '/invocations',
      html`<p class="notice" id="done">Re-ran ${reran.size} failed invocations.</p>
<table class="grid" id="reran"><thead><tr><th>failed</th><th>new invocation</th></tr></thead><tbody>
${[...reran].map(([old, fresh]) => html`<tr><td>${invocationLink(old)}</td><td>${invocationLink(fresh)}</td></tr>`)}
</tbody></table>`,
    )
  })

  hono.post('/actions/purge', async (c) => {
    const body = await c.req.parseBody()
    const before = parseTime('before', typeof body.before === 'string' ? body.before : undefined)
    if (before === undefined) throw new FilterError('before', 'a date is required')
    const removed = await purgeFinished(app, before)
    logAction('purge', { before: new Date(before).toISOString(), removed })
    return page(
      c,
      'Purged finished invocations',
      '/invocations',
      html`<p class="notice" id="done">Removed ${removed} finished invocations created before ${new Date(before).toISOString()}.</p>`,
    )
  })

  return { hono, close: () => hub.close() }
}

/** How long one overview read serves every page asking for it. */
export const OVERVIEW_TTL_MS = 10_000

const taskIdOf = (app: Nenc) => (name: string) => app.getTask(name)?.id ?? name
