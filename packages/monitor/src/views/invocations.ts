import { html } from 'hono/html'
import { filterQuery, type ListFilters } from '../filters.js'
import type { ListPage } from '../read/listing.js'
import { STATUS_LIST } from '../statuses.js'
import { actionForm, type Html, invocationLink, type PageContext, statusBadge, time } from './layout.js'

const localInput = (ms: number | undefined) =>
  ms === undefined ? '' : new Date(ms).toISOString().slice(0, 16)

/** The filter form, the page of rows, the next-page link and the bulk retry action. */
export function invocationsView(ctx: PageContext, f: ListFilters, page: ListPage, tasks: string[]): Html {
  const nextHref = page.next ? `/invocations${filterQuery(f, { cursor: page.next })}` : null
  return html`<form class="filters" method="get" action="/invocations">
  <label>task <select name="task"><option value="">any</option>${tasks.map(
    (t) => html`<option value="${t}"${f.task === t ? html` selected` : ''}>${t}</option>`,
  )}</select></label>
  <label>status <select name="status" multiple size="4">${STATUS_LIST.map(
    (s) => html`<option value="${s}"${f.statuses.includes(s) ? html` selected` : ''}>${s}</option>`,
  )}</select></label>
  <label>created from (UTC) <input type="datetime-local" name="from" value="${localInput(f.from)}"></label>
  <label>before (UTC) <input type="datetime-local" name="to" value="${localInput(f.to)}"></label>
  <label>workflow <input name="workflow" value="${f.workflow ?? ''}" placeholder="workflow id"></label>
  <label>parent <input name="parent" value="${f.parent ?? ''}" placeholder="parent id"></label>
  <label>argument contains <input name="arg" value="${f.arg ?? ''}" placeholder='e.g. "user-42"'></label>
  <button type="submit">Filter</button> <a href="/invocations">clear</a>
</form>
<table class="grid" id="invocations">
<thead><tr><th>id</th><th>task</th><th>status</th><th>attempt</th><th>retries</th><th>created</th><th>status since</th></tr></thead>
<tbody>
${page.rows.map(
  (r) => html`<tr data-invocation="${r.state.id}">
  <td>${invocationLink(r.state.id)}</td>
  <td>${r.record?.taskName ?? r.state.taskId}</td>
  <td>${statusBadge(r.state.status)}</td>
  <td class="num">${r.state.attempt}</td>
  <td class="num">${r.state.retries}</td>
  <td>${time(r.record?.createdAt)}</td>
  <td>${time(r.state.timestamp)}</td>
</tr>`,
)}
</tbody>
</table>
${page.rows.length === 0 ? html`<p class="muted" id="empty">No invocation on this page.</p>` : ''}
<p class="pager">${f.cursor ? html`<a href="/invocations${filterQuery(f)}">first page</a>` : ''}
${nextHref ? html` <a id="next-page" href="${nextHref}">next page →</a>` : html` <span class="muted">end of the list</span>`}</p>
<h2>Actions on this filter</h2>
${actionForm(
  ctx,
  '/actions/retry-failed',
  'Re-run every failed invocation matching this filter',
  'Re-run every FAILED invocation matching this filter (new invocations, same arguments)?',
  { filter: filterQuery(f) },
)}
${actionForm(
  ctx,
  '/actions/cancel-pending',
  'Cancel every matching invocation that has not started',
  'Cancel every invocation matching this filter that has not started running? They will never run.',
  { filter: filterQuery(f) },
)}
${
  ctx.readOnly
    ? ''
    : html`<form class="action" id="purge" method="post" action="/actions/purge" data-confirm="Remove every finished invocation created before this date, with its history, arguments and outcomes?">
  <input type="hidden" name="_csrf" value="${ctx.csrf}">
  <label>finished invocations created before (UTC) <input type="datetime-local" name="before" required></label>
  <button type="submit">Purge</button>
</form>`
}`
}
