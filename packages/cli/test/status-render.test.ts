import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { STATUS_TABLE, STATUSES } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { nenc } from './helpers.js'

describe('nenc status render', () => {
  it('prints the state machine as a text table read from STATUS_TABLE', async () => {
    const { code, stdout } = await nenc(['status', 'render'])
    expect(code).toBe(0)
    for (const s of STATUSES) expect(stdout).toMatch(new RegExp(`^${s}\\s`, 'm'))
    expect(stdout).toMatch(/^running\s.*→ paused, killed, retry, success, failed, running_recovery$/m)
    expect(stdout).toMatch(/^success\s+F .*→ \(final\)$/m)
  })

  it('writes an SVG with one box per status and one arrow per allowed transition', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nenc-svg-')), 'machine.svg')
    const { code, stderr } = await nenc(['status', 'render', '--svg', '--output', file])
    expect(code).toBe(0)
    expect(stderr).toContain(`wrote ${file}`)
    const svg = readFileSync(file, 'utf8')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.match(/<g class="status"/g)).toHaveLength(STATUSES.length)
    const transitions = STATUSES.reduce((n, s) => n + STATUS_TABLE[s].allowedTargets.length, 0)
    expect(svg.match(/<path class="edge"/g)).toHaveLength(transitions)
    expect(svg).toContain('data-from="killed" data-to="rerouted"')
  })
})
