import { STATUS_TABLE, STATUSES } from './status.js'

/**
 * The status table as Markdown, generated from {@link STATUS_TABLE} so the docs cannot drift:
 * `docs/concepts/invocation-lifecycle.md` embeds it and a core test checks it is current.
 */
export function statusTableMarkdown(): string {
  const mark = (b: boolean) => (b ? '✓' : '')
  const rows = STATUSES.map((s) => {
    const d = STATUS_TABLE[s]
    const cells = [
      d.final,
      d.availableForRun,
      d.requiresOwnership,
      d.acquiresOwnership,
      d.releasesOwnership,
      d.overridesOwnership,
    ].map(mark)
    const targets = d.allowedTargets.length ? d.allowedTargets.join(', ') : '—'
    return `| ${s} | ${cells.join(' | ')} | ${targets} |`
  })
  return [
    '| status | final | available for run | requires owner | acquires owner | releases owner | overrides owner | may go to |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n')
}
