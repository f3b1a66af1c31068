import type { InvocationRecord, InvocationState } from '@nenc/core'
import { html } from 'hono/html'
import type { WorkflowNode, WorkflowRun } from '../read/workflow.js'
import { type Html, invocationLink, type PageContext, statusBadge, time } from './layout.js'

function node(n: WorkflowNode): Html {
  return html`<li data-invocation="${n.record.id}">${invocationLink(n.record.id)} ${n.record.taskName}
  ${n.state ? statusBadge(n.state.status) : html`<span class="muted">no state</span>`}
  <span class="muted">${time(n.record.createdAt)}</span>
  ${n.children.length ? html`<ul>${n.children.map(node)}</ul>` : ''}</li>`
}

/** A workflow run as a family tree, with links to its parent workflow and its list. */
export function workflowView(_ctx: PageContext, run: WorkflowRun): Html {
  return html`<section id="workflow">
<dl class="summary">
  <dt>workflow</dt><dd class="mono">${run.id}</dd>
  <dt>type</dt><dd>${run.type ?? '-'}</dd>
  <dt>parent workflow</dt><dd>${run.parentWorkflowId ? html`<a href="/workflows/${encodeURIComponent(run.parentWorkflowId)}">${run.parentWorkflowId}</a>` : '-'}</dd>
  <dt>invocations</dt><dd id="wf-size">${run.size}${run.truncated ? ' (newest shown)' : ''} · <a href="/invocations?workflow=${encodeURIComponent(run.id)}">as a list</a></dd>
</dl>
<ul class="tree" id="wf-tree">${run.roots.map(node)}</ul>
</section>`
}

/** Runs of one workflow type (or the types to choose from). */
export function runsView(
  _ctx: PageContext,
  types: string[],
  type: string | undefined,
  runs: { rows: { record: InvocationRecord; state: InvocationState }[]; next: string | null } | null,
): Html {
  return html`<form class="filters" method="get" action="/workflows">
  <label>type (root task) <select name="type">${types.map(
    (t) => html`<option value="${t}"${t === type ? html` selected` : ''}>${t}</option>`,
  )}</select></label>
  <button type="submit">Show runs</button>
</form>
${
  runs === null
    ? html`<p class="muted">Pick a workflow type: every task called from outside a task starts a run of its own type.</p>`
    : html`<table class="grid" id="runs"><thead><tr><th>run</th><th>status of the root</th><th>started</th><th>parent workflow</th></tr></thead><tbody>
${runs.rows.map(
  (
    r,
  ) => html`<tr data-invocation="${r.record.id}"><td><a class="mono" href="/workflows/${encodeURIComponent(r.record.id)}">${r.record.id}</a></td>
<td>${statusBadge(r.state.status)}</td><td>${time(r.record.createdAt)}</td><td>${r.record.workflow.parentWorkflowId ?? '-'}</td></tr>`,
)}</tbody></table>
${runs.rows.length === 0 ? html`<p class="muted" id="empty">No run on this page.</p>` : ''}
<p class="pager">${runs.next ? html`<a id="next-page" href="/workflows?type=${encodeURIComponent(type ?? '')}&cursor=${encodeURIComponent(runs.next)}">next page →</a>` : html`<span class="muted">end of the list</span>`}</p>`
}`
}
