import { INITIAL_STATUS, type InvocationStatus, STATUS_TABLE, STATUSES } from '@nenc/core'

const NODE_W = 200
const NODE_H = 34
const COL_GAP = 90
const ROW_GAP = 26
const PAD = 30

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Column of each status: its shortest distance from REGISTERED (unreachable ones go last). */
function layers(): Map<InvocationStatus, number> {
  const depth = new Map<InvocationStatus, number>([[INITIAL_STATUS, 0]])
  const queue: InvocationStatus[] = [INITIAL_STATUS]
  while (queue.length) {
    const s = queue.shift()!
    for (const t of STATUS_TABLE[s].allowedTargets) {
      if (!depth.has(t)) {
        depth.set(t, depth.get(s)! + 1)
        queue.push(t)
      }
    }
  }
  const last = Math.max(...depth.values()) + 1
  for (const s of STATUSES) if (!depth.has(s)) depth.set(s, last)
  return depth
}

function fill(s: InvocationStatus): string {
  const d = STATUS_TABLE[s]
  if (s === 'success') return '#d9f2d9'
  if (d.final) return '#f6d5d5'
  if (s.endsWith('_recovery')) return '#fde7c7'
  if (d.availableForRun) return '#d6e6fa'
  return '#eeeeee'
}

/**
 * The state machine as a standalone SVG, laid out from core's STATUS_TABLE: statuses in columns
 * by distance from REGISTERED, one arrow per allowed transition. Colours: blue available for
 * run, orange recovery, green success, red other finals, grey the rest. Deterministic output.
 */
export function renderStatusSvg(): string {
  const depth = layers()
  const columns = new Map<number, InvocationStatus[]>()
  for (const s of STATUSES) {
    const d = depth.get(s)!
    columns.set(d, [...(columns.get(d) ?? []), s])
  }
  const pos = new Map<InvocationStatus, { x: number; y: number }>()
  let maxRows = 0
  for (const [col, list] of columns) {
    maxRows = Math.max(maxRows, list.length)
    list.forEach((s, row) => {
      pos.set(s, { x: PAD + col * (NODE_W + COL_GAP), y: PAD + row * (NODE_H + ROW_GAP) })
    })
  }
  const width = PAD * 2 + columns.size * NODE_W + (columns.size - 1) * COL_GAP
  const height = PAD * 2 + maxRows * NODE_H + (maxRows - 1) * ROW_GAP + 40
  const edges: string[] = []
  for (const s of STATUSES) {
    const a = pos.get(s)!
    for (const t of STATUS_TABLE[s].allowedTargets) {
      const b = pos.get(t)!
      const forward = b.x > a.x
      const x1 = forward ? a.x + NODE_W : a.x + NODE_W / 2
      const y1 = forward ? a.y + NODE_H / 2 : a.y + (b.y >= a.y ? NODE_H : 0)
      const x2 = forward ? b.x : b.x + NODE_W / 2
      const y2 = forward ? b.y + NODE_H / 2 : b.y + (b.y >= a.y ? 0 : NODE_H)
      // Backward and same-column arrows bend out of the way so they do not cross the boxes.
      const cx = forward ? (x1 + x2) / 2 : Math.max(x1, x2) + NODE_W / 2 + 20
      const cy = forward ? (y1 + y2) / 2 : (y1 + y2) / 2
      edges.push(
        `  <path class="edge" d="M${x1},${y1} Q${cx},${cy} ${x2},${y2}" data-from="${s}" data-to="${t}"/>`,
      )
    }
  }
  const nodes = STATUSES.map((s) => {
    const { x, y } = pos.get(s)!
    const d = STATUS_TABLE[s]
    const flags = [d.final && 'final', d.availableForRun && 'runnable', d.requiresOwnership && 'owned']
      .filter(Boolean)
      .join(' · ')
    return [
      `  <g class="status" data-status="${s}">`,
      `    <rect x="${x}" y="${y}" width="${NODE_W}" height="${NODE_H}" rx="8" fill="${fill(s)}" stroke="#555"/>`,
      `    <text x="${x + NODE_W / 2}" y="${y + 15}" class="name">${escapeXml(s.toUpperCase())}</text>`,
      `    <text x="${x + NODE_W / 2}" y="${y + 28}" class="flags">${escapeXml(flags)}</text>`,
      '  </g>',
    ].join('\n')
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    '  <title>nenc invocation status machine</title>',
    '  <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    '  <style>.edge{fill:none;stroke:#777;stroke-width:1.2;marker-end:url(#arrow)} text{font-family:system-ui,sans-serif;text-anchor:middle} .name{font-size:12px;font-weight:600} .flags{font-size:9px;fill:#444}</style>',
    ...edges,
    ...nodes,
    `  <text x="${PAD}" y="${height - 14}" style="text-anchor:start;font-size:11px;fill:#444">blue: available for run · orange: recovery · green/red: final · grey: owned by a runner</text>`,
    '</svg>',
    '',
  ].join('\n')
}
