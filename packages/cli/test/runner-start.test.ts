import { isValidStatusPath, type Nenc, type Task } from '@nenc/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixture, nenc, startRunnerProcess } from './helpers.js'

/**
 * `nenc runner start` as a real process: it runs tasks, stops gracefully on SIGTERM (what still
 * runs after the grace period is killed and rerouted while it still owns it) and another `nenc runner start`
 * finishes them. `nenc invocation show` then prints that story.
 */
let mod: { app: Nenc; slow: Task<[number], string>; add: Task<[number, number], number> }
const procs: ReturnType<typeof startRunnerProcess>[] = []
let env: Record<string, string>

beforeEach(async () => {
  env = { NENC_TEST_APP_ID: `cli-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}` }
  process.env.NENC_TEST_APP_ID = env.NENC_TEST_APP_ID
  // A fresh module instance per test: the app id comes from the environment.
  mod = await import(`${fixture('redis-app.mjs')}?${env.NENC_TEST_APP_ID}`)
})

afterEach(async () => {
  for (const p of procs.splice(0))
    if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL')
  await mod.app.purge()
  await mod.app.close()
})

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('nenc runner start', () => {
  it('SIGTERM reroutes running invocations while owned; a second runner finishes them; invocation show tells it', async () => {
    const app = fixture('redis-app.mjs')
    // A grace shorter than the tasks: they are still running when it ends, so they are rerouted.
    const first = startRunnerProcess(['--app', app, '--runner', 'thread', '--max-threads', '8'], {
      ...env,
      NENC__RUNNER__STOP_GRACE_MS: '100',
    })
    procs.push(first)
    const { runnerId: firstId } = await first.running
    const group = await mod.slow.parallelize([[3000], [3000], [3000]])
    await until(async () => {
      const running = await mod.app.backend.orchestrator.listInvocations({ statuses: ['running'] })
      return running.length === 3
    })
    first.proc.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(first.stderr()).toContain(
      'SIGTERM: stopping ThreadRunner; running invocations get runner.stopGraceMs',
    )

    const second = startRunnerProcess(
      ['--app', app, '--runner', 'persistent-process', '--processes', '2'],
      env,
    )
    procs.push(second)
    const { runnerId: secondId } = await second.running
    const finishedBy = await group.results()
    for (const child of finishedBy) expect(child).toMatch(/^PersistentProcessWorker-/)
    const [inv] = group.invocations
    const statuses = (await inv!.history()).map((h) => h.status)
    expect(isValidStatusPath(statuses)).toEqual({ ok: true })
    expect(statuses).toEqual([
      'registered',
      'pending',
      'running',
      'killed',
      'rerouted',
      'pending',
      'running',
      'success',
    ])

    const shown = await nenc(['invocation', 'show', inv!.id, '--app', app], env)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(`invocation ${inv!.id}`)
    expect(shown.stdout).toMatch(/^ {2}task {6}slow$/m)
    expect(shown.stdout).toMatch(/^ {2}status {4}success$/m)
    expect(shown.stdout).toMatch(/^ {2}result {4}"PersistentProcessWorker-/m)
    expect(shown.stdout).toMatch(new RegExp(`killed\\s+by ${firstId}$`, 'm'))
    expect(shown.stdout).toMatch(/^\s+\+\d+ms\s+\S+\s+#\d+\s+success\s+by PersistentProcessWorker-/m)
    const json = JSON.parse((await nenc(['invocation', 'show', inv!.id, '--app', app, '--json'], env)).stdout)
    expect(json.history.map((h: { status: string }) => h.status)).toEqual(statuses)

    second.proc.kill('SIGINT')
    expect(await second.exited).toBe(0)
    const ctx = await mod.app.backend.stateBackend.getRunnerContext(secondId)
    expect(ctx?.runnerClass).toBe('PersistentProcessRunner')
  }, 90_000)

  it('invocation show says when an id does not exist', async () => {
    const r = await nenc(['invocation', 'show', 'no-such-id', '--app', fixture('redis-app.mjs')], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`nenc: Invocation no-such-id does not exist in app "${env.NENC_TEST_APP_ID}".`)
  }, 30_000)
})
