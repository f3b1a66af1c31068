import { html } from 'hono/html'
import type { Overview } from '../read/overview.js'
import { STATUS_LIST } from '../statuses.js'
import { type Html, invocationLink, type PageContext, statusBadge, time } from './layout.js'

/** Counts per status and task, an hourly bar chart (one stacked bar per hour), queue, runners, failures. */
export function overviewView(_ctx: PageContext, o: Overview): Html {
  const byStatus = new Map<string, number>()
  const tasks = new Map<string, Map<string, number>>()
  for (const c of o.counts) {
    byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + c.count)
    const t = tasks.get(c.taskId) ?? new Map<string, number>()
    t.set(c.status, c.count)
    tasks.set(c.taskId, t)
  }
  const shown = STATUS_LIST.filter((s) => byStatus.has(s))
  const max = Math.max(1, ...o.hours.map((h) => Object.values(h.byStatus).reduce((a, b) => a + (b ?? 0), 0)))
  return html`<div hx-get="/" hx-trigger="every 10s" hx-select="#overview" hx-target="#overview" hx-swap="outerHTML"></div>
<section id="overview">
<p class="muted">Invocations created since ${time(o.windowStart)} UTC (current status). Refreshes every 10 s.</p>
<div class="cards">
  <div class="card"><span class="n" id="queue-depth">${o.queueDepth}</span> queued</div>
  <div class="card"><a href="/runners"><span class="n" id="runners-alive">${o.runners}</span> runners alive</a></div>
  ${shown.map(
    (s) =>
      html`<div class="card"><a href="/invocations?status=${s}&from=${o.windowStart}"><span class="n">${byStatus.get(s)}</span> ${statusBadge(s)}</a></div>`,
  )}
</div>
<h2>Per hour</h2>
<div class="bars" role="img" aria-label="invocations per hour by status">
${o.hours.map((h) => {
  const total = Object.values(h.byStatus).reduce((a, b) => a + (b ?? 0), 0)
  return html`<a class="bar" href="/invocations?from=${h.start}&to=${h.start + 3_600_000}" title="${time(h.start)}: ${total}">
  ${STATUS_LIST.filter((s) => h.byStatus[s]).map(
    (s) =>
      html`<span class="seg st-${s}" style="height:${((h.byStatus[s]! / max) * 100).toFixed(1)}%"></span>`,
  )}</a>`
})}
</div>
<h2>Per task</h2>
<table class="grid" id="per-task">
<thead><tr><th>task</th>${shown.map((s) => html`<th>${statusBadge(s)}</th>`)}</tr></thead>
<tbody>
${[...tasks].map(
  ([task, counts]) =>
    html`<tr><td><a href="/invocations?task=${encodeURIComponent(task)}">${task}</a></td>${shown.map(
      (s) => html`<td class="num">${counts.get(s) ?? ''}</td>`,
    )}</tr>`,
)}
</tbody>
</table>
<h2>Recent failures</h2>
${
  o.recentFailures.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table class="grid" id="failures"><thead><tr><th>id</th><th>task</th><th>since</th></tr></thead><tbody>
${o.recentFailures.map(
  (r) =>
    html`<tr><td>${invocationLink(r.state.id)}</td><td>${r.record?.taskName ?? r.state.taskId}</td><td>${time(r.state.timestamp)}</td></tr>`,
)}</tbody></table>`
}
</section>`
}
