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
