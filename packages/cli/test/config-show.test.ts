import { describe, expect, it } from 'vitest'
import { fixture, nenc } from './helpers.js'

describe('nenc config show', () => {
  it('prints every resolved value with its source, from a TypeScript app', async () => {
    const r = await nenc(['config', 'show', '--app', fixture('memory-app.ts')], {
      NENC__ORCHESTRATOR__RESULT_POLL_MS: '750',
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^appId\s+"cli-memory"\s+code$/m)
    expect(r.stdout).toMatch(/^runner\.maxThreads\s+2\s+code$/m)
    expect(r.stdout).toMatch(/^orchestrator\.resultPollMs\s+750\s+env NENC__ORCHESTRATOR__RESULT_POLL_MS$/m)
    expect(r.stdout).toMatch(/^runner\.heartbeatIntervalMs\s+\d+\s+default$/m)
    expect(r.stdout).toMatch(/^tasks\.greet\.maxRetries\s+3\s+code$/m)
  }, 30_000)

  it('without --app shows what the environment and file resolve to, as JSON on request', async () => {
    const r = await nenc(['config', 'show', '--json'], { NENC__RUNNER__MAX_THREADS: '8', NENC_APP: '' })
    expect(r.code).toBe(0)
    const rows = JSON.parse(r.stdout) as { key: string; value: unknown; source: string }[]
    expect(rows.find((x) => x.key === 'runner.maxThreads')).toMatchObject({
      value: 8,
      source: 'env NENC__RUNNER__MAX_THREADS',
    })
  })
})
