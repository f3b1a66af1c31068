import { describe, expect, it } from 'vitest'
import { fixture, nenc } from './helpers.js'

describe('nenc config show', () => {
  it('prints every resolved value with its source, from a TypeScript app', async () => {
    const r = await nenc(['config', 'show', '--app', fixture('memory-app.ts')], {
      NENC__ORCHESTRATOR__RESULT_POLL_MS: '750',
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^appId\s+"cli-memory"\s+code\s+NENC__APP_ID$/m)
    expect(r.stdout).toMatch(/^runner\.maxThreads\s+2\s+code\s+NENC__RUNNER__MAX_THREADS$/m)
    expect(r.stdout).toMatch(
      /^orchestrator\.resultPollMs\s+750\s+env NENC__ORCHESTRATOR__RESULT_POLL_MS\s+NENC__ORCHESTRATOR__RESULT_POLL_MS$/m,
    )
    expect(r.stdout).toMatch(
      /^runner\.heartbeatIntervalMs\s+\d+\s+default\s+NENC__RUNNER__HEARTBEAT_INTERVAL_MS$/m,
    )
    // Per-task keys print the exact variable that sets them.
    expect(r.stdout).toMatch(/^tasks\.greet\.maxRetries\s+3\s+code\s+NENC__TASK__GREET__MAX_RETRIES$/m)
    expect(r.stdout).toMatch(/^task\.maxRetries\s+0\s+default\s+NENC__TASK__MAX_RETRIES$/m)
  }, 30_000)

  it("reports a runner's constructor options as the value in force, with source runner constructor", async () => {
    const r = await nenc(['config', 'show', '--app', fixture('thread-runner-app.ts'), '--json'], {
      NENC__RUNNER__MAX_THREADS: '8',
    })
    expect(r.code).toBe(0)
    const rows = JSON.parse(r.stdout) as { key: string; value: unknown; source: string; env: string }[]
    expect(rows.find((x) => x.key === 'runner.maxThreads')).toMatchObject({
      value: 3,
      source: 'runner constructor',
      env: 'NENC__RUNNER__MAX_THREADS',
    })
    expect(rows.find((x) => x.key === 'runner.minThreads')).toMatchObject({ source: 'default' })
  }, 30_000)

  it('warns on stderr about a NENC__ variable that names no key, keeping stdout clean', async () => {
    const r = await nenc(['config', 'show', '--json'], { NENC__RUNNER__MAX_THREAD: '8', NENC_APP: '' })
    expect(r.code).toBe(0)
    expect(() => JSON.parse(r.stdout)).not.toThrow()
    expect(r.stderr).toContain('NENC__RUNNER__MAX_THREAD names no nenc configuration key')
    expect(r.stderr).toContain('did you mean NENC__RUNNER__MAX_THREADS (runner.maxThreads)?')
    // The app's logger writes this warning; the tests' default level (silent) would hide it.
    const withApp = await nenc(['config', 'show', '--app', fixture('memory-app.ts'), '--json'], {
      NENC__ORCHESTRATOR__RESULT_POL_MS: '5',
      NENC_LOG_LEVEL: 'warn',
    })
    expect(withApp.code).toBe(0)
    expect(() => JSON.parse(withApp.stdout)).not.toThrow()
    expect(withApp.stderr).toContain('NENC__ORCHESTRATOR__RESULT_POL_MS')
    expect(withApp.stderr).toContain('NENC__ORCHESTRATOR__RESULT_POLL_MS')
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
