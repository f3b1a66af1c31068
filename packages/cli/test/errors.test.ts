import { describe, expect, it } from 'vitest'
import { fixture, nenc, startRunnerProcess } from './helpers.js'

/** Every error a user can act on prints one line that says what to do, with exit code 1 or 2. */
describe('nenc errors a user can act on', () => {
  it('a missing app file names the resolved path and the directory it is relative to', async () => {
    const r = await nenc(['runner', 'start', '--app', './no/such/app.ts'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^nenc: App module .*no\/such\/app\.ts does not exist; check the --app path \(relative to /,
    )
    expect(r.stderr).not.toContain('    at ')
  })

  it('a module without a Nenc export lists its exports and shows the fix', async () => {
    const r = await nenc(['config', 'show', '--app', fixture('no-export.mjs')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('does not export a Nenc app (exports: notAnApp)')
    expect(r.stderr).toContain('export const app = new Nenc({ ... })')
  })

  it('a memory backend with a process runner is refused with RunnerIncompatibleError', async () => {
    for (const kind of ['process', 'persistent-process', 'multi-thread']) {
      const r = await nenc(['runner', 'start', '--app', fixture('memory-app.ts'), '--runner', kind])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(
        /^nenc: \w+Runner runs tasks outside this process and cannot use the in-memory broker \(memory\); use ThreadRunner, or a Redis\/PostgreSQL\/MongoDB backend\./,
      )
    }
  }, 60_000)

  it('no --app, an unknown runner and a bad count are usage errors (exit 2)', async () => {
    const none = await nenc(['runner', 'start'], { NENC_APP: '' })
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('No app given: pass --app <path>')
    const unknown = await nenc(['runner', 'start', '--app', fixture('memory-app.ts'), '--runner', 'fibers'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain(
      'Unknown runner "fibers"; choose one of: thread, process, persistent-process, multi-thread.',
    )
    const bad = await nenc(['runner', 'start', '--max-threads', 'many'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      "option '--max-threads <n>' argument 'many' is invalid. expected a whole number of at least 1.",
    )
  }, 30_000)

  it('an app on in-memory components warns that the command sees only its own process', async () => {
    const list = await nenc(['invocation', 'list', '--app', fixture('memory-app.ts')])
    expect(list.code).toBe(0)
    expect(list.stderr).toMatch(
      /^nenc: warning: app "[^"]+" keeps broker, orchestrator, stateBackend, clientDataStore, triggerStore in this process's memory: this command sees only what this process did/,
    )
    expect(list.stderr).toContain(
      'Share work between processes with Redis, PostgreSQL or MongoDB components.',
    )
    // config show reads no state: no warning.
    const config = await nenc(['config', 'show', '--app', fixture('memory-app.ts')])
    expect(config.stderr).not.toContain('warning: app')
    // A runner of its own process: what it can still run, said before it starts.
    const runner = startRunnerProcess(['--app', fixture('memory-app.ts')])
    await runner.running
    runner.proc.kill('SIGTERM')
    expect(await runner.exited).toBe(0)
    expect(runner.stderr()).toContain(
      'this runner runs only what its own process routes (the app module itself, its triggers), never calls made by other processes',
    )
  }, 30_000)

  it('an app on Redis gets no in-memory warning', async () => {
    const r = await nenc(['invocation', 'list', '--app', fixture('redis-app.mjs'), '--json'], {
      NENC_TEST_APP_ID: `cli-warn-${process.pid}`,
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
  }, 30_000)
})
