import { html } from 'hono/html'
import type { RunnerRow } from '../read/overview.js'
import { type Html, type PageContext, time } from './layout.js'

function row(r: RunnerRow, depth: number, now: number): Html {
  const c = r.context
  return html`<tr id="${r.heartbeat.runnerId}" class="depth-${Math.min(depth, 3)}">
  <td class="mono">${depth ? '└ ' : ''}${r.heartbeat.runnerId}</td>
  <td>${c?.runnerClass ?? '-'}</td>
  <td>${c ? `${c.hostname} pid ${c.pid}` : '-'}</td>
  <td>${time(r.heartbeat.createdAt)}</td>
  <td>${time(r.heartbeat.lastHeartbeat)} (${Math.max(0, now - r.heartbeat.lastHeartbeat)} ms ago)</td>
  <td>${
    r.atomicWindow === null
      ? html`<span class="muted">not eligible</span>`
      : `slot ${r.atomicWindow.slot} of ${r.atomicWindow.of}: ${r.atomicWindow.fromMs}–${r.atomicWindow.toMs} ms of every ${r.atomicWindow.intervalMs} ms`
  }</td>
</tr>
${r.children.map((k) => row(k, depth + 1, now))}`
}

/** Live runners: pool runners with their child processes, heartbeats, atomic-service slots. */
export function runnersView(_ctx: PageContext, roots: RunnerRow[], now = Date.now()): Html {
  return html`<div hx-get="/runners" hx-trigger="every 10s" hx-select="#runners" hx-target="#runners" hx-swap="outerHTML"></div>
<section id="runners">
${
  roots.length === 0
    ? html`<p class="muted" id="no-runners">No runner has heartbeated recently.</p>`
    : html`<table class="grid"><thead><tr><th>runner</th><th>class</th><th>where</th><th>first heartbeat</th><th>last heartbeat</th><th>atomic services</th></tr></thead>
<tbody>${roots.map((r) => row(r, 0, now))}</tbody></table>`
}
<p class="muted">Atomic services (recovery, triggers) run in time windows: each interval is split among the eligible runners by first heartbeat. Refreshes every 10 s.</p>
</section>`
}
