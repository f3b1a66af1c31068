import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type BaseRunner, isValidStatusPath } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { bindRunner, ThreadRunner } from '../src/index.js'
import { availableBackends, newTestApp, until } from './helpers.js'

/**
 * A runner presumed dead that wakes up (issue 10): a runner process is frozen with SIGSTOP while
 * its invocations run, longer than `runnerDeadAfterMs`; another runner recovers them and
 * finishes them; then the frozen one is continued (SIGCONT) and finishes its own copies. Its
 * writes name a stale attempt: every stored result stays the winner's, every history is valid,
 * and the stale writes are logged at warn level.
 */
const SCRIPT = fileURLToPath(new URL('./fixtures/run-runner.mjs', import.meta.url))
const procs: ChildProcess[] = []
const rescuers: BaseRunner[] = []
let cleanup: (() => Promise<void>) | null = null

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGCONT')
      p.kill('SIGKILL')
    }
  }
  for (const r of rescuers.splice(0)) await r.stop()
  await cleanup?.()
  cleanup = null
})

const backends = availableBackends(['redis', 'postgres'])

describe.skipIf(backends.length === 0)('a frozen runner that wakes up overwrites nothing', () => {
  for (const backend of backends) {
    it(`${backend}: SIGSTOP past runnerDeadAfterMs, recovered and finished elsewhere, SIGCONT: the winner's results stay`, async () => {
      const N = 5
      const t = await newTestApp(backend, 'frozen')
      cleanup = async () => {
        await t.app.purge().catch(() => {})
        await t.app.close()
      }
      const proc = fork(SCRIPT, ['ThreadRunner', JSON.stringify({ maxThreads: 10 })], {
        env: { ...process.env, NENC_LOG_LEVEL: 'warn' }, // its stale-attempt warnings are checked
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      })
      procs.push(proc)
      let log = ''
      proc.stdout!.on('data', (d) => (log += String(d)))
      proc.stderr!.on('data', (d) => (log += String(d)))
      const { pid: frozenPid } = await new Promise<{ pid: number }>((resolve, reject) => {
        proc.once('message', (m) => resolve(m as { pid: number }))
        proc.once('exit', (code) => reject(new Error(`runner process exited early (${code})`)))
      })
      // Long enough to outlive the freeze plus recovery, short enough for the winner to finish fast.
      const group = await t.slowPid.parallelize(Array.from({ length: N }, () => [1500] as [number]))
      const ids = group.invocations.map((i) => i.id)
      await until(`${N} running on the frozen runner`, async () => {
        const states = await t.app.backend.orchestrator.getStates(ids)
        return states.every((s) => s?.status === 'running')
      })
      proc.kill('SIGSTOP')
      // The survivor's recovery (runnerDeadAfterMs 1500) reroutes them; it runs them to the end.
      const rescuer = bindRunner(t.app, new ThreadRunner({ maxThreads: 10 }))
      rescuers.push(rescuer)
      await rescuer.start()
      const results = await group.results()
      expect(results).toEqual(Array.from({ length: N }, () => process.pid))
      const finalStates = await t.app.backend.orchestrator.getStates(ids)
      const histories = await Promise.all(ids.map((id) => t.app.backend.orchestrator.getHistory(id)))

      // Wake the zombie: its sleeps end at once and it tries to finish every invocation.
      proc.kill('SIGCONT')
      await until(
        `${N} stale-attempt warnings from the woken runner`,
        async () => (log.match(/stale attempt/g) ?? []).length >= N,
        15_000,
      )
      // Its finish batch has been refused: nothing it wrote is what readers see.
      expect(await group.results()).toEqual(Array.from({ length: N }, () => process.pid))
      expect(await t.app.backend.orchestrator.getStates(ids)).toEqual(finalStates)
      for (const [i, id] of ids.entries()) {
        const h = await t.app.backend.orchestrator.getHistory(id)
        expect(h, `history of ${id}`).toEqual(histories[i])
        expect(isValidStatusPath(h.map((e) => e.status))).toEqual({ ok: true })
        expect(h.map((e) => e.status)).toContain('running_recovery')
        expect(h.at(-1)).toMatchObject({ status: 'success', attempt: 2 })
      }
      const warns = log
        .split('\n')
        .filter((l) => l.includes('stale attempt'))
        .map(
          (l) =>
            JSON.parse(l) as {
              level: number
              invocationId: string
              staleAttempt: number
              currentAttempt: number
            },
        )
      expect(warns.every((w) => w.level === 40 && w.staleAttempt === 1 && w.currentAttempt === 2)).toBe(true)
      expect(new Set(warns.map((w) => w.invocationId))).toEqual(new Set(ids))
      expect(frozenPid).not.toBe(process.pid)
      await rescuer.stop()
    }, 60_000)
  }
})
