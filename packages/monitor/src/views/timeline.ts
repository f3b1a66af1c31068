import { html } from 'hono/html'
import type { Timeline } from '../read/timeline.js'
import { type Html, type PageContext, time } from './layout.js'

const LANE = 28
const LABEL = 220
const WIDTH = 1100

/** One lane per runner, one bar per attempt coloured by its status, parent → child links. */
export function timelineView(_ctx: PageContext, t: Timeline, windowMinutes: number): Html {
  const span = t.to - t.from
  const x = (ms: number) => LABEL + ((ms - t.from) / span) * (WIDTH - LABEL - 10)
  const laneOf = new Map(t.lanes.map((l, i) => [l, i]))
  const firstOf = new Map<string, (typeof t.segments)[number]>()
  for (const s of t.segments) if (!firstOf.has(s.id)) firstOf.set(s.id, s)
  const height = Math.max(1, t.lanes.length) * LANE + 30
  return html`<form class="filters" method="get" action="/timeline">
  <label>last <input type="number" name="minutes" min="1" max="1440" value="${windowMinutes}"> minutes</label>
  <button type="submit">Show</button>
</form>
<p class="muted">${t.segments.length} attempts on ${t.lanes.length} runners, ${time(t.from)} → ${time(t.to)} UTC.</p>
<svg id="timeline" class="timeline-svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="attempts per runner">
${t.lanes.map(
  (l, i) => html`<g><text x="4" y="${i * LANE + 18}" class="lane-label">${l}</text>
<line x1="${LABEL}" x2="${WIDTH}" y1="${i * LANE + LANE}" y2="${i * LANE + LANE}" class="lane-line"/></g>`,
)}
${t.segments.map((s) => {
  const y = laneOf.get(s.runner)! * LANE + 6
  return html`<a href="/invocations/${encodeURIComponent(s.id)}"><rect class="seg st-${s.status}" x="${x(s.start).toFixed(1)}" y="${y}" width="${Math.max(2, x(s.end) - x(s.start)).toFixed(1)}" height="${LANE - 12}"><title>${s.task} ${s.id} attempt ${s.attempt}: ${s.status} (${s.end - s.start} ms)</title></rect></a>`
})}
${t.segments.map((s) => {
  const p = s.parentId ? firstOf.get(s.parentId) : undefined
  if (!p || s.attempt !== 1) return ''
  return html`<line class="link" x1="${x(p.start).toFixed(1)}" y1="${laneOf.get(p.runner)! * LANE + LANE / 2}" x2="${x(s.start).toFixed(1)}" y2="${laneOf.get(s.runner)! * LANE + LANE / 2}"/>`
})}
</svg>`
}
