import { type InvocationStatus, STATUS_TABLE, STATUSES } from '@nenc/core'

const FLAGS = [
  ['final', 'F'],
  ['availableForRun', 'A'],
  ['requiresOwnership', 'Req'],
  ['acquiresOwnership', 'Acq'],
  ['releasesOwnership', 'Rel'],
  ['overridesOwnership', 'Ovr'],
] as const

/**
 * The state machine as a text table read from core's STATUS_TABLE: one row per status with
 * its flags and the statuses it may move to, then the legend.
 */
export function renderStatusText(): string {
  const nameWidth = Math.max(...STATUSES.map((s) => s.length))
  const flagCell = (s: InvocationStatus) =>
    FLAGS.map(([k, label]) => (STATUS_TABLE[s][k] ? label : '·'.padEnd(label.length))).join(' ')
  const head = `${'status'.padEnd(nameWidth)}  ${FLAGS.map(([, l]) => l).join(' ')}  → may move to`
  const rows = STATUSES.map((s) => {
    const targets = STATUS_TABLE[s].allowedTargets
    return `${s.padEnd(nameWidth)}  ${flagCell(s)}  → ${targets.length ? targets.join(', ') : '(final)'}`
  })
  const legend = [
    'F final · A available for run · Req only the owner may leave it · Acq entering sets owner = actor',
    'Rel entering clears the owner · Ovr entering skips ownership checks (recovery of a dead owner)',
  ]
  return [head, '-'.repeat(head.length), ...rows, '', ...legend, ''].join('\n')
}
