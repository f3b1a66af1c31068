import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>

/** What every page needs from the request: the app, the CSRF token, read-only mode. */
export interface PageContext {
  appId: string
  csrf: string
  readOnly: boolean
}

const NAV = [
  ['/', 'Overview'],
  ['/invocations', 'Invocations'],
  ['/workflows', 'Workflows'],
  ['/timeline', 'Timeline'],
  ['/runners', 'Runners'],
  ['/triggers', 'Triggers'],
] as const

/**
 * The page frame. Every interpolated value goes through hono's `html` tag, which escapes it:
 * task names, ids, arguments and results are always text. Scripts come from the package's own
 * assets only (the Content-Security-Policy header allows nothing else).
 */
export function layout(ctx: PageContext, title: string, active: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="nenc-csrf" content="${ctx.csrf}">
<title>${title} · ${ctx.appId} · nenc monitor</title>
<link rel="stylesheet" href="/assets/monitor.css">
<script src="/assets/htmx.min.js" defer></script>
<script src="/assets/monitor.js" defer></script>
</head>
<body>
<header>
  <strong class="brand">nenc monitor</strong> <span class="app">${ctx.appId}</span>
  <nav>${NAV.map(([href, label]) => html`<a href="${href}"${active === href ? html` class="active"` : ''}>${label}</a>`)}</nav>
  <form class="search" action="/search" method="get">
    <input name="id" placeholder="invocation id" aria-label="invocation id" required>
    <button type="submit">Open</button>
  </form>
  <span id="live" class="live" title="final statuses received since this page loaded">live: <b id="live-count">0</b></span>
  ${ctx.readOnly ? html`<span class="badge ro">read-only</span>` : ''}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`
}

export const time = (ms: number | undefined | null): string =>
  ms === undefined || ms === null || !Number.isFinite(ms)
    ? '-'
    : new Date(ms).toISOString().replace('T', ' ').replace('Z', '')

export const statusBadge = (status: string): Html => html`<span class="status st-${status}">${status}</span>`

export const invocationLink = (id: string): Html =>
  html`<a class="mono" href="/invocations/${encodeURIComponent(id)}">${id}</a>`

/** A value as indented JSON text (escaped by the caller's `html` tag). */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return v
  try {
    return JSON.stringify(v, null, 2) ?? String(v)
  } catch {
    return String(v)
  }
}

/** A POST form for an action: CSRF token, confirmation text (asked by monitor.js before sending). */
export function actionForm(
  ctx: PageContext,
  action: string,
  label: string,
  confirm: string,
  fields: Record<string, string> = {},
): Html {
  if (ctx.readOnly) return html``
  return html`<form class="action" method="post" action="${action}" data-confirm="${confirm}">
  <input type="hidden" name="_csrf" value="${ctx.csrf}">
  ${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <button type="submit">${label}</button>
</form>`
}
