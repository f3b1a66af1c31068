import { html } from 'hono/html'
import type { TriggerRow, TriggersPage } from '../read/triggers.js'
import { type Html, type PageContext, time } from './layout.js'

function triggerRow(t: TriggerRow): Html {
  return html`<tr id="trigger-${t.id}">
  <td>${t.taskName}</td>
  <td>${t.logic === 'and' ? 'all of' : 'any of'}</td>
  <td><ul class="conditions">${t.described.map(
    (c) => html`<li data-kind="${c.kind}"><span class="kind">${c.kind}</span> ${c.text}</li>`,
  )}</ul></td>
  <td>${t.overlap}</td>
  <td class="mono">${JSON.stringify(t.missed)}</td>
  <td class="last-run">${time(t.lastRun)}</td>
  <td class="next-run">${time(t.nextRun)}</td>
</tr>`
}

/**
 * Declared triggers (conditions, last and next cron run) and the newest stored events. Event
 * payloads are user data: always text, through the `html` tag's escaping.
 */
export function triggersView(_ctx: PageContext, p: TriggersPage): Html {
  return html`<section id="triggers">
${
  p.triggers.length === 0
    ? html`<p class="muted" id="no-triggers">This app declares no trigger.</p>`
    : html`<table class="grid"><thead><tr><th>task</th><th>logic</th><th>conditions</th><th>overlap</th><th>missed</th><th>last cron run (UTC)</th><th>next cron run (UTC)</th></tr></thead>
<tbody>${p.triggers.map(triggerRow)}</tbody></table>`
}
</section>
<h2>Stored events</h2>
<form class="filters" method="get" action="/triggers">
  <label>code <input name="code" value="${p.code ?? ''}" placeholder="e.g. order.paid"></label>
  <label>show <input name="limit" type="number" min="1" max="500" value="${p.limit}"></label>
  <button type="submit">Filter</button> <a href="/triggers">clear</a>
</form>
<table class="grid" id="events"><thead><tr><th>emitted (UTC)</th><th>code</th><th>payload</th><th>id</th></tr></thead>
<tbody>${p.events.map(
    (e) => html`<tr data-event="${e.id}">
  <td>${time(e.emittedAt)}</td>
  <td class="mono">${e.code}</td>
  <td><pre class="value payload">${e.payload}</pre></td>
  <td class="mono">${e.id}</td>
</tr>`,
  )}</tbody></table>
${
  p.events.length === 0
    ? html`<p class="muted" id="no-events">No stored event${p.code ? html` of code "${p.code}"` : ''}.</p>`
    : p.events.length === p.limit
      ? html`<p class="muted" id="events-limited">The newest ${p.limit} events; older ones may be stored (raise "show", or filter by code).</p>`
      : ''
}`
}
