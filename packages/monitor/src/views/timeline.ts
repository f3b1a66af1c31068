import { html } from 'hono/html'
import type { Segment, Timeline } from '../read/timeline.js'
import { type Html, type PageContext, time } from './layout.js'

const ROW = 18
const LANE_PAD = 10
const LABEL = 230
const WIDTH = 1100

/**
 * Rows within each lane: attempts that overlap in time go on separate rows (first row free at
 * their start), so a runner running eight at once shows eight bars, not one.
 */
export function packLanes(t: Timeline): {
  rowOf: Map<Segment, number>
  top: Map<string, number>
  height: number
} {
  const rowOf = new Map<Segment, number>()
  const top = new Map<string, number>()
  let y = 4
  for (const lane of t.lanes) {
    const ends: number[] = []
    for (const s of t.segments.filter((x) => x.runner === lane).sort((a, b) => a.start - b.start)) {
      let r = ends.findIndex((end) => end <= s.start)
      if (r < 0) r = ends.push(0) - 1
      ends[r] = s.end
      rowOf.set(s, r)
    }
    top.set(lane, y)
    y += Math.max(1, ends.length) * ROW + LANE_PAD
  }
  return { rowOf, top, height: y }
}

/** One lane per runner, one bar per attempt coloured by its status, parent → child links. */
export function timelineView(_ctx: PageContext, t: Timeline, windowMinutes: number): Html {
  const span = t.to - t.from
  const x = (ms: number) => LABEL + ((ms - t.from) / span) * (WIDTH - LABEL - 10)
  const { rowOf, top, height } = packLanes(t)
  const yOf = (s: Segment) => top.get(s.runner)! + rowOf.get(s)! * ROW
  const firstOf = new Map<string, Segment>()
  for (const s of t.segments)
    if (!firstOf.has(s.id) || s.attempt < firstOf.get(s.id)!.attempt) firstOf.set(s.id, s)
  return html`<form class="filters" method="get" action="/timeline">
  <label>last <input type="number" name="minutes" min="1" max="1440" value="${windowMinutes}"> minutes</label>
  <button type="submit">Show</button>
</form>
<p class="muted">${t.segments.length} attempts on ${t.lanes.length} runners, ${time(t.from)} → ${time(t.to)} UTC. Dashed: parent → child.</p>
<svg id="timeline" class="timeline-svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="attempts per runner">
${t.lanes.map(
  (
    l,
  ) => html`<g><text x="4" y="${top.get(l)! + 13}" class="lane-label"><title>${l}</title>${l.length > 34 ? `…${l.slice(-33)}` : l}</text>
<line x1="0" x2="${WIDTH}" y1="${top.get(l)! - 4}" y2="${top.get(l)! - 4}" class="lane-line"/></g>`,
)}
${t.segments.map(
  (s) =>
    html`<a href="/invocations/${encodeURIComponent(s.id)}"><rect class="seg st-${s.status}" x="${x(s.start).toFixed(1)}" y="${yOf(s)}" width="${Math.max(2, x(s.end) - x(s.start)).toFixed(1)}" height="${ROW - 4}"><title>${s.task} ${s.id} attempt ${s.attempt}: ${s.status} (${s.end - s.start} ms)</title></rect></a>`,
)}
${t.segments.map((s) => {
  const p = s.parentId ? firstOf.get(s.parentId) : undefined
  if (!p || firstOf.get(s.id) !== s) return ''
  return html`<line class="link" x1="${x(p.start).toFixed(1)}" y1="${yOf(p) + ROW / 2}" x2="${x(s.start).toFixed(1)}" y2="${yOf(s) + ROW / 2}"/>`
})}
</svg>`
}
