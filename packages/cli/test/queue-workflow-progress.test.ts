import type { Nenc, Task } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { nenc } from './helpers.js'
import { INSPECT_APP, useInspectApp } from './inspect-fixture.js'

/**
 * `invocation show`'s progress, `queue` and `workflow show` as a user runs them: real processes
 * against a Redis app and a PostgreSQL app, in text and `--json`.
 */
const APP = INSPECT_APP

interface InspectApp {
  app: Nenc
  leaf: Task<[number], number>
  top: Task<[number[]], number>
  echo: Task<[string], string>
  reporter: Task<[number], number>
}

describe.each(['redis', 'postgres'] as const)('queue, workflow show and progress on %s', (backend) => {
  const t = useInspectApp<InspectApp>(backend, 'qwp')

  const run = async (args: string[]) => {
    const r = await nenc([...args, '--app', APP], t.env)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    return r.stdout
  }
  const json = async (args: string[]) => JSON.parse(await run([...args, '--json']))

  it('invocation show: the last progress reported, and none for a task that reports none', async () => {
    await t.runInProcess()
    const inv = await t.mod.reporter(4)
    await inv.result({ timeoutMs: 20_000 })
    const report = await json(['invocation', 'show', inv.id])
    expect(report.progress).toMatchObject({ value: { done: 4, of: 4 }, attempt: 1 })
    expect(typeof report.progress.updatedAt).toBe('number')
    const text = await run(['invocation', 'show', inv.id])
    expect(text).toMatch(/progress {2}\{"done":4,"of":4\} {2}\(attempt #1, \d{4}-\d\d-\d\dT/)

    const quiet = await t.mod.leaf(1)
    await quiet.result({ timeoutMs: 20_000 })
    expect((await json(['invocation', 'show', quiet.id])).progress).toBeNull()
    expect(await run(['invocation', 'show', quiet.id])).toMatch(/\n {2}progress {2}-\n/)
  })

  it('queue: waiting invocations per task and status, and the broker queue length', async () => {
    const empty = await json(['queue'])
    expect(empty).toEqual({ tasks: [], totalWaiting: 0, brokerQueued: 0 })
    expect(await run(['queue'])).toContain('  none')

    // No runner: the calls stay registered and queued.
    await t.mod.leaf.parallelize([[1], [2], [3]])
    await t.mod.echo('a')
    await t.mod.echo('b')
    const report = await json(['queue'])
    expect(report.totalWaiting).toBe(5)
    expect(report.brokerQueued).toBe(5)
    expect(report.tasks).toEqual([
      {
        task: 'echo',
        counts: { registered: 2, rerouted: 0, retry: 0, concurrency_controlled: 0, pending: 0 },
        total: 2,
      },
      {
        task: 'leaf',
        counts: { registered: 3, rerouted: 0, retry: 0, concurrency_controlled: 0, pending: 0 },
        total: 3,
      },
    ])
    const text = await run(['queue'])
    expect(text).toMatch(/^echo +2 +0 +0 +0 +0 +2$/m)
    expect(text).toMatch(/^leaf +3 +0 +0 +0 +0 +3$/m)
    expect(text).toContain('total waiting: 5')
    expect(text).toMatch(/broker queue: +5 id\(s\) ready/)
  })

  it('queue: a scheduled call waits as registered but is not in the broker queue before its time', async () => {
    await t.mod.leaf.schedule({ delayMs: 60_000 })(1)
    await t.mod.leaf(2)
    const report = await json(['queue'])
    expect(report.tasks).toEqual([
      {
        task: 'leaf',
        counts: { registered: 2, rerouted: 0, retry: 0, concurrency_controlled: 0, pending: 0 },
        total: 2,
      },
    ])
    expect(report.brokerQueued).toBe(1)
  })

  it('queue: finished invocations are not counted', async () => {
    await t.runInProcess()
    await (await t.mod.leaf(1)).result({ timeoutMs: 20_000 })
    expect(await json(['queue'])).toEqual({ tasks: [], totalWaiting: 0, brokerQueued: 0 })
  })

  it('workflow show: the fan-out as a tree, each invocation with its status', async () => {
    await t.runInProcess()
    const inv = await t.mod.top([1, -2])
    await expect(inv.result({ timeoutMs: 20_000 })).rejects.toThrow(/negative input -2/)
    const report = await json(['workflow', 'show', inv.id])
    expect(report).toMatchObject({ workflowId: inv.id, type: 'top', parentWorkflowId: null, count: 5 })
    expect(report.truncated).toBe(false)
    expect(report.roots).toHaveLength(1)
    const root = report.roots[0]
    expect(root).toMatchObject({ id: inv.id, task: 'top', status: 'failed' })
    expect(root.children.map((c: { task: string }) => c.task)).toEqual(['middle', 'middle'])
    const leaves = root.children.flatMap((m: { children: { task: string; status: string }[] }) =>
      m.children.map((l) => [l.task, l.status]),
    )
    expect(leaves.sort()).toEqual([
      ['leaf', 'failed'],
      ['leaf', 'success'],
    ])
    expect(root.children.map((c: { status: string }) => c.status).sort()).toEqual(['failed', 'success'])

    const text = await run(['workflow', 'show', inv.id])
    expect(text).toContain(`workflow ${inv.id}`)
    expect(text).toMatch(new RegExp(`^${inv.id} {2}top {2}failed`, 'm'))
    expect(text.match(/^[├└]─ \S+ {2}middle {2}(success|failed)/gm)).toHaveLength(2)
    expect(text.match(/^[│ ] {2}└─ \S+ {2}leaf {2}(success|failed)/gm)).toHaveLength(2)

    // --limit reads fewer and says so.
    const cut = await json(['workflow', 'show', inv.id, '--limit', '2'])
    expect(cut.count).toBe(2)
    expect(cut.truncated).toBe(true)
    // The newest two are listed (leaves or a middle): those whose parent is not read name it.
    const ids = new Set(
      report.roots.flatMap(function all(n: { id: string; children: never[] }): string[] {
        return [n.id, ...n.children.flatMap(all)]
      }),
    )
    for (const r of cut.roots) {
      expect(ids.has(r.id)).toBe(true)
      expect(r.parentId).toMatch(/./)
    }
    const cutText = await run(['workflow', 'show', inv.id, '--limit', '2'])
    expect(cutText).toContain('2 invocation(s) (more exist: raise --limit)')
    expect(cutText).toMatch(/ {2}\(parent \S+ not listed\)$/m)
  })

  it('workflow show: an unknown workflow is a one-line error', async () => {
    const r = await nenc(['workflow', 'show', 'no-such-workflow', '--app', APP], t.env)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `nenc: Workflow no-such-workflow has no invocations in app "${t.env.NENC_TEST_APP_ID}".\n`,
    )
  })
})
