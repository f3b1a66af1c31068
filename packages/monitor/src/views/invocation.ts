import { CANCELABLE_STATUSES } from '@nenc/core'
import { html } from 'hono/html'
import type { InvocationDetail } from '../read/invocation.js'
import {
  actionForm,
  type Html,
  invocationLink,
  type PageContext,
  showValue,
  statusBadge,
  time,
} from './layout.js'

const runnerLink = (id: string | null): Html =>
  id
    ? html`<a class="mono" href="/runners#${encodeURIComponent(id)}">${id}</a>`
    : html`<span class="muted">-</span>`

/** The stack's frames (its first line repeats the name and message shown above it). */
const stackFrames = (stack: string | undefined, head: string): string =>
  stack === undefined ? '' : stack.startsWith(head) ? stack.slice(head.length).replace(/^\n/, '') : stack

/** One invocation: summary with progress, re-run and cancel, status timeline, arguments, outcome, family, attempts. */
export function invocationView(ctx: PageContext, d: InvocationDetail): Html {
  const { state, record } = d
  const t0 = d.history[0]?.timestamp ?? state.timestamp
  return html`<section id="invocation" data-invocation="${state.id}">
<dl class="summary">
  <dt>id</dt><dd class="mono" id="inv-id">${state.id}</dd>
  <dt>task</dt><dd><a href="/invocations?task=${encodeURIComponent(state.taskId)}">${record?.taskName ?? state.taskId}</a></dd>
  <dt>status</dt><dd id="inv-status">${statusBadge(state.status)}</dd>
  <dt>owner</dt><dd>${runnerLink(state.owner)}</dd>
  <dt>attempt</dt><dd>${state.attempt}</dd>
  <dt>retries</dt><dd>${state.retries}</dd>
  <dt>created</dt><dd>${time(record?.createdAt)}</dd>
  <dt>workflow</dt><dd>${
    record
      ? html`<a id="wf-link" href="/workflows/${encodeURIComponent(record.workflow.id)}">${record.workflow.id}</a> (${record.workflow.type})`
      : '-'
  }</dd>
  <dt>progress</dt><dd id="inv-progress">${
    d.progress === null
      ? html`<span class="muted">none reported</span>`
      : html`<pre class="value">${showValue(d.progress.value)}</pre> <span class="muted">attempt ${d.progress.attempt}, ${time(d.progress.updatedAt)}</span>`
  }</dd>
</dl>
<div class="actions">
${actionForm(ctx, `/actions/rerun/${encodeURIComponent(state.id)}`, 'Re-run', 'Re-run this invocation (a new invocation with the same arguments)?')}
${
  // Offered while it has not started; a cancel that loses the race is refused with core's reason.
  CANCELABLE_STATUSES.includes(state.status)
    ? actionForm(
        ctx,
        `/actions/cancel/${encodeURIComponent(state.id)}`,
        'Cancel',
        'Cancel this invocation? It will never run.',
      )
    : ''
}
</div>
<h2>Status history</h2>
<ol class="timeline" id="history">
${d.history.map(
  (h) => html`<li class="st-${h.status}-edge">
  <span class="offset">+${h.timestamp - t0} ms</span> ${statusBadge(h.status)}
  <span class="when">${time(h.timestamp)}</span>
  <span>attempt ${h.attempt}</span>
  <span>by ${runnerLink(h.actor)}</span>
  <span>owner ${runnerLink(h.owner)}</span>
</li>`,
)}
</ol>
<h2>Attempts</h2>
${
  d.attempts.length === 0
    ? html`<p class="muted">Not claimed yet.</p>`
    : html`<table class="grid" id="attempts"><thead><tr><th>attempt</th><th>runner</th><th>last status</th><th>at</th></tr></thead><tbody>
${d.attempts.map(
  (a) =>
    html`<tr><td class="num">${a.attempt}</td><td>${runnerLink(a.runner)}</td><td>${statusBadge(a.last.status)}</td><td>${time(a.last.timestamp)}</td></tr>`,
)}</tbody></table>`
}
<h2>Arguments</h2>
<pre class="value" id="args">${showValue(d.args)}</pre>
<h2>${d.outcome?.kind === 'error' ? 'Error' : 'Result'}</h2>
${
  d.outcome === null
    ? html`<p class="muted" id="no-outcome">No outcome for attempt ${state.attempt} yet.</p>`
    : d.outcome.kind === 'result'
      ? html`<pre class="value" id="result">${showValue(d.outcome.value)}</pre>`
      : html`<pre class="value error" id="error"><b>${d.outcome.name}</b>: ${d.outcome.message}
${stackFrames(d.outcome.stack, `${d.outcome.name}: ${d.outcome.message}`)}</pre>`
}
<h2>Family</h2>
<div class="family" id="family">
  ${d.parent ? html`<div>parent: ${invocationLink(d.parent.id)} ${d.parent.state ? statusBadge(d.parent.state.status) : ''}</div>` : html`<div class="muted">no parent (top level)</div>`}
  <ul class="tree"><li><span class="mono">${state.id}</span> ${statusBadge(state.status)}
    <ul id="children">${d.children.map(
      (c) =>
        html`<li>${invocationLink(c.id)} ${c.record?.taskName ?? ''} ${c.state ? statusBadge(c.state.status) : ''}</li>`,
    )}</ul></li></ul>
  ${d.moreChildren ? html`<a href="/invocations?parent=${encodeURIComponent(state.id)}">all children →</a>` : ''}
</div>
</section>`
}
