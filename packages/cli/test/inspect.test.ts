import type { Nenc, Task } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { nenc, startRunnerProcess } from './helpers.js'
import { INSPECT_APP, useInspectApp } from './inspect-fixture.js'

/**
 * The inspection commands as a user runs them, as real processes against a Redis app and a
 * PostgreSQL app holding real invocations: `invocation show` (large arguments, parent and
 * children, the error chain), `invocation list` and `runners`, in text and `--json`.
 */
const APP = INSPECT_APP

interface InspectApp {
  app: Nenc
  leaf: Task<[number], number>
  middle: Task<[number], number>
  top: Task<[number[]], number>
  echo: Task<[string], string>
}

describe.each(['redis', 'postgres'] as const)('inspection commands on %s', (backend) => {
  const t = useInspectApp<InspectApp>(backend, 'inspect')
  const procs: ReturnType<typeof startRunnerProcess>[] = []

  afterEach(() => {
    for (const p of procs.splice(0))
      if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL')
  })

  const json = async (args: string[]) => {
    const r = await nenc([...args, '--app', APP, '--json'], t.env)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    return JSON.parse(r.stdout)
  }

  it('invocation show: children of a fan-out and the error chain down to the invocation that threw', async () => {
    await t.runInProcess()
    const inv = await t.mod.top([1, -2])
    await expect(inv.result({ timeoutMs: 20_000 })).rejects.toThrow(/negative input -2/)
    const report = await json(['invocation', 'show', inv.id])
    expect(report.status).toBe('failed')
    expect(report.childCount).toBe(2)
    expect(report.children.map((c: { task: string }) => c.task)).toEqual(['middle', 'middle'])
    const failedMiddle = report.children.find((c: { status: string }) => c.status === 'failed')
    expect(report.children.map((c: { status: string }) => c.status).sort()).toEqual(['failed', 'success'])
    const chain = report.errorChain as { invocationId: string; task: string; name: string; message: string }[]
    expect(chain.map((l) => l.task)).toEqual(['top', 'middle', 'leaf'])
    expect(chain[0]!.invocationId).toBe(inv.id)
    expect(chain[1]!.invocationId).toBe(failedMiddle.id)
    for (const l of chain) expect(l).toMatchObject({ name: 'RangeError', message: 'negative input -2' })

    // The leaf names its parent, and the text output tells the same story.
    const leafReport = await json(['invocation', 'show', chain[2]!.invocationId])
    expect(leafReport.parent).toEqual({ id: failedMiddle.id, task: 'middle', status: 'failed' })
    expect(leafReport.errorChain).toHaveLength(1)
    const text = await nenc(['invocation', 'show', inv.id, '--app', APP], t.env)
    expect(text.stdout).toContain('children (2)')
    expect(text.stdout).toContain(`  ${failedMiddle.id}  middle  failed`)
    expect(text.stdout).toMatch(/^error chain/m)
    expect(text.stdout).toContain(`  ${chain[2]!.invocationId}  leaf  RangeError: negative input -2`)
  })

  it('invocation show: a large argument and result are summarised with their size, or shown in full on request', async () => {
    await t.runInProcess()
    const big = 'x'.repeat(50_000)
    const inv = await t.mod.echo(big)
    expect(await inv.result({ timeoutMs: 20_000 })).toBe(big)
    const report = await json(['invocation', 'show', inv.id])
    const serializedChars = JSON.stringify(big).length
    expect(report.args.args).toEqual([
      { chars: serializedChars, inClientDataStore: true, preview: `${JSON.stringify(big).slice(0, 80)}…` },
    ])
    expect(report.resultChars).toBe(serializedChars)
    expect(report).not.toHaveProperty('result')
    const text = await nenc(['invocation', 'show', inv.id, '--app', APP], t.env)
    expect(text.stdout).toContain(`arg 1     (${serializedChars} chars, in the client data store;`)
    expect(text.stdout).toContain(`result    (${serializedChars} chars;`)
    const full = await json(['invocation', 'show', inv.id, '--max-value-chars', '100000'])
    expect(full.args.args[0].value).toBe(big)
    expect(full.result).toBe(big)
  })

  it('invocation list: filtered by task and status, limited, in text and JSON', async () => {
    await t.runInProcess()
    const ok = await t.mod.leaf.parallelize([[1], [2], [3]])
    const bad = await t.mod.leaf(-1)
    await ok.results()
    await expect(bad.result({ timeoutMs: 20_000 })).rejects.toThrow()
    await (await t.mod.echo('hi')).result({ timeoutMs: 20_000 })

    const leaves = await json(['invocation', 'list', '--task', 'leaf'])
    expect(leaves.map((r: { id: string }) => r.id).sort()).toEqual(
      [...ok.invocations.map((i) => i.id), bad.id].sort(),
    )
    const failed = await json(['invocation', 'list', '--task', 'leaf', '--status', 'failed'])
    expect(failed).toEqual([
      expect.objectContaining({ id: bad.id, task: 'leaf', status: 'failed', attempt: 1 }),
    ])
    expect(await json(['invocation', 'list', '--limit', '2'])).toHaveLength(2)
    const text = await nenc(['invocation', 'list', '--app', APP, '--status', 'failed'], t.env)
    expect(text.stdout).toMatch(/^id\s+task\s+status\s+attempt\s+created$/m)
    expect(text.stdout).toContain(bad.id)
    expect(text.stdout.trim().split('\n')).toHaveLength(2)
  })

  it('invocation list --since: a duration back from now or an ISO time bounds the creation time', async () => {
    await t.runInProcess()
    const early = await t.mod.leaf.parallelize([[1], [2]])
    await early.results()
    await new Promise((r) => setTimeout(r, 30))
    const since = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 30))
    const late = await t.mod.leaf.parallelize([[3], [4], [5]])
    await late.results()
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort()
    expect(ids(await json(['invocation', 'list', '--since', since]))).toEqual(late.ids.sort())
    expect(ids(await json(['invocation', 'list', '--since', since, '--limit', '2']))).toHaveLength(2)
    expect(ids(await json(['invocation', 'list', '--since', '1h']))).toEqual(
      [...early.ids, ...late.ids].sort(),
    )
    expect(await json(['invocation', 'list', '--since', '2999-01-01'])).toEqual([])
  })

  it('invocation list: an unknown status, task or --since is a usage error naming what exists', async () => {
    const status = await nenc(['invocation', 'list', '--app', APP, '--status', 'done'], t.env)
    expect(status.code).toBe(2)
    expect(status.stderr).toContain('unknown status done; one or more of registered,')
    const task = await nenc(['invocation', 'list', '--app', APP, '--task', 'nope'], t.env)
    expect(task.code).toBe(2)
    expect(task.stderr).toContain('defines no task "nope"; its tasks: leaf, middle, top, echo')
    for (const bad of ['yesterday', '15 minutes', '-5m', '2026-13-45', '12']) {
      const since = await nenc(['invocation', 'list', '--app', APP, '--since', bad], t.env)
      expect(since.code).toBe(2)
      expect(since.stderr).toContain(`option '--since <when>' argument '${bad}' is invalid`)
      expect(since.stderr).toContain('expected a duration back from now')
    }
  })

  it('runners: none alive, then a process runner with its children, then none after it stops', async () => {
    const none = await nenc(['runners', '--app', APP], t.env)
    expect(none.code).toBe(0)
    expect(none.stdout).toContain(`no runner of app "${t.env.NENC_TEST_APP_ID}" is alive`)
    expect((await json(['runners'])).runners).toEqual([])

    const runner = startRunnerProcess(
      ['--app', APP, '--runner', 'persistent-process', '--processes', '2'],
      t.env,
    )
    procs.push(runner)
    const { runnerId } = await runner.running
    let report: { runners: { runnerId: string; runnerClass: string; pid: number; children: unknown[] }[] }
    // The pool's workers register as they come up: wait until both heartbeat.
    const end = Date.now() + 20_000
    do {
      report = await json(['runners'])
      if (report.runners[0]?.children.length === 2) break
      await new Promise((r) => setTimeout(r, 200))
    } while (Date.now() < end)
    expect(report.runners).toHaveLength(1)
    expect(report.runners[0]).toMatchObject({
      runnerId,
      runnerClass: 'PersistentProcessRunner',
      pid: runner.proc.pid,
      slots: 2,
    })
    expect(report.runners[0]!.children).toHaveLength(2)
    const text = await nenc(['runners', '--app', APP], t.env)
    expect(text.stdout).toContain(`${runnerId}  PersistentProcessRunner  pid ${runner.proc.pid} on `)
    expect(text.stdout).toMatch(new RegExp(`${runnerId} .* 2 slots  started `))
    expect(text.stdout.match(/└ /g)).toHaveLength(2)

    runner.proc.kill('SIGTERM')
    expect(await runner.exited).toBe(0)
    // Without heartbeats it counts as dead after runnerDeadAfterMs (1.5 s here).
    const gone = Date.now() + 20_000
    let after = await nenc(['runners', '--app', APP], t.env)
    while (!after.stdout.includes('is alive') && Date.now() < gone) {
      await new Promise((r) => setTimeout(r, 300))
      after = await nenc(['runners', '--app', APP], t.env)
    }
    expect(after.stdout).toContain(`no runner of app "${t.env.NENC_TEST_APP_ID}" is alive`)
  })
})
