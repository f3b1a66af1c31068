import type { ChildProcess } from 'node:child_process'
import { type BaseRunner, type InvocationStatus, isValidStatusPath, type Nenc } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { bindRunner, ThreadRunner } from '../src/index.js'
import { redisClient } from './fixtures/backend.mjs'
import { availableBackends, forkRunner, newTestApp, until } from './helpers.js'

/**
 * Real processes, real signals: a runner process is SIGKILLed (recovery must reroute its
 * invocations) or SIGTERMed (it must kill-and-reroute them itself), and a second runner
 * finishes everything. Side effects are counted in Redis per invocation id.
 */
const procs: ChildProcess[] = []
let cleanup: (() => Promise<void>) | null = null
const rescuers: BaseRunner[] = []

afterEach(async () => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
  for (const r of rescuers.splice(0)) await r.stop()
  await cleanup?.()
  cleanup = null
})

async function expectEachEffectOnce(key: string, n: number): Promise<void> {
  const redis = redisClient()
  try {
    const runs = await redis.hgetall(`${key}:runs`)
    expect(await redis.scard(`${key}:done`)).toBe(n)
    expect(Object.entries(runs).filter(([, v]) => v !== '1')).toEqual([])
    await redis.del(`${key}:runs`, `${key}:done`)
  } finally {
    await redis.quit()
  }
}

const runnerProcess = (kind: string, options: object, env: Record<string, string> = {}) =>
  forkRunner(procs, kind, options, env)

async function countStatus(app: Nenc, statuses: InvocationStatus[]): Promise<number> {
  return (await app.backend.orchestrator.listInvocations({ statuses, limit: 10_000 })).length
}

/** A fresh test app on `backend`, purged and closed after the test, and its side-effect key. */
async function testApp(backend: Parameters<typeof newTestApp>[0], name: string) {
  const t = await newTestApp(backend, name)
  cleanup = async () => {
    await t.app.purge().catch(() => {})
    await t.app.close()
  }
  return { t, key: `nenc-test:${t.app.appId}` }
}

/** A second runner in this process (stopped after the test), started. */
async function rescue(app: Nenc, maxThreads: number): Promise<BaseRunner> {
  const rescuer = bindRunner(app, new ThreadRunner({ maxThreads }))
  rescuers.push(rescuer)
  await rescuer.start()
  return rescuer
}

/** Every invocation went through a valid status path and ended in SUCCESS. */
async function expectPathsEndingInSuccess(
  invocations: readonly { history(): Promise<{ status: InvocationStatus }[]> }[],
) {
  for (const inv of invocations) {
    const statuses = (await inv.history()).map((e) => e.status)
    expect(isValidStatusPath(statuses), statuses.join(' → ')).toEqual({ ok: true })
    expect(statuses.at(-1)).toBe('success')
  }
}

const backends = availableBackends(['redis', 'postgres'])
const hasRedis = backends.includes('redis')

describe.skipIf(!hasRedis)('runner processes under real signals', () => {
  for (const backend of backends) {
    it(`${backend}: kill -9 with 250 invocations in flight; a second runner finishes all, each side effect once`, async () => {
      const N = 250
      const { t, key } = await testApp(backend, 'k9')
      const group = await t.effect.parallelize(
        Array.from({ length: N }, () => [key, 2500] as [string, number]),
      )
      const victim = runnerProcess('ThreadRunner', { maxThreads: 300 })
      const { runnerId: victimId } = await victim.running
      await until('200 running', async () => (await countStatus(t.app, ['running'])) >= 200)
      const inFlight = await countStatus(t.app, ['running', 'pending'])
      victim.proc.kill('SIGKILL')
      await victim.exited
      // The survivor recovers the dead runner's invocations (after runnerDeadAfterMs) and runs them.
      const rescuer = await rescue(t.app, 300)
      const t0 = Date.now()
      const results = await group.results()
      const recoveryMs = Date.now() - t0
      await rescuer.stop()
      expect(results).toHaveLength(N)
      await expectEachEffectOnce(key, N)
      let recovered = 0
      for (const inv of group.invocations) {
        const h = await inv.history()
        const statuses = h.map((e) => e.status)
        expect(isValidStatusPath(statuses), statuses.join(' → ')).toEqual({ ok: true })
        expect(statuses.at(-1)).toBe('success')
        if (statuses.includes('running_recovery') && h.some((e) => e.actor === victimId)) recovered++
      }
      console.log(
        `[kill -9] ${backend}: ${inFlight} in flight, ${recovered} recovered, finished ${recoveryMs} ms after the kill`,
      )
      expect(inFlight).toBeGreaterThanOrEqual(200)
      expect(recovered).toBeGreaterThanOrEqual(200)
    }, 90_000)
    it(`${backend}: kill -9 of a runner holding a local queue (prefetch 200): a second runner finishes all, each effect once`, async () => {
      const N = 250
      const { t, key } = await testApp(backend, 'k9pf')
      const group = await t.effect.parallelize(
        Array.from({ length: N }, () => [key, 2500] as [string, number]),
      )
      // 20 slots execute; up to 200 more are claimed ahead, started and held in the local queue.
      const victim = runnerProcess('ThreadRunner', { maxThreads: 20, prefetch: 200 })
      await victim.running
      await until('220 running', async () => (await countStatus(t.app, ['running'])) >= 220)
      victim.proc.kill('SIGKILL')
      await victim.exited
      const rescuer = await rescue(t.app, 300)
      expect(await group.results()).toHaveLength(N)
      await rescuer.stop()
      await expectEachEffectOnce(key, N)
      await expectPathsEndingInSuccess(group.invocations)
    }, 90_000)
    it(`${backend}: SIGTERM of a runner holding a local queue: the prefetched invocations are given back unrun, the running ones finish in the grace, each once`, async () => {
      const N = 40
      const { t, key } = await testApp(backend, 'termpf')
      const group = await t.effect.parallelize(
        Array.from({ length: N }, () => [key, 1500] as [string, number]),
      )
      const victim = runnerProcess(
        'ThreadRunner',
        { maxThreads: 4, prefetch: 30 },
        { NENC__RUNNER__STOP_GRACE_MS: '5000' },
      )
      const { runnerId: victimId } = await victim.running
      await until('34 running', async () => (await countStatus(t.app, ['running'])) >= 34)
      victim.proc.kill('SIGTERM')
      expect(await victim.exited).toBe(0)
      // Nothing is left RUNNING or PENDING for recovery.
      expect(await countStatus(t.app, ['running', 'pending'])).toBe(0)
      const rescuer = await rescue(t.app, 50)
      expect(await group.results()).toHaveLength(N)
      await rescuer.stop()
      await expectEachEffectOnce(key, N)
      let ranOnVictim = 0
      let givenBack = 0
      for (const inv of group.invocations) {
        const h = await inv.history()
        const statuses = h.map((e) => e.status)
        expect(isValidStatusPath(statuses), statuses.join(' → ')).toEqual({ ok: true })
        expect(statuses.at(-1)).toBe('success')
        if (h.at(-1)!.actor === victimId) ranOnVictim++
        else if (statuses.includes('killed')) {
          // Given back by its owner before it let go of it, then run by the rescuer.
          expect(statuses.slice(-6)).toEqual([
            'running',
            'killed',
            'rerouted',
            'pending',
            'running',
            'success',
          ])
          expect(h.at(-5)!.actor).toBe(victimId)
          givenBack++
        }
      }
      // The 4 slots' tasks (1.5 s) finish within the 5 s grace; the queued ones never start there.
      expect(ranOnVictim).toBeGreaterThanOrEqual(4)
      expect(givenBack).toBeGreaterThanOrEqual(20)
      // The rest were still queued on the backend at the stop (claimed by the rescuer only).
      expect(ranOnVictim + givenBack).toBeLessThanOrEqual(N)
    }, 60_000)
    it(`${backend}: kill -9 while running concurrency holds work: the parked ones run after recovery, each effect once`, async () => {
      const N = 6
      const { t, key } = await testApp(backend, 'k9cc')
      const group = await t.effectSerial.parallelize(
        Array.from({ length: N }, () => [key, 300] as [string, number]),
      )
      const victim = runnerProcess('ThreadRunner', { maxThreads: 4 })
      await victim.running
      await until('one running, the others parked', async () => {
        const running = await countStatus(t.app, ['running'])
        const parked = await countStatus(t.app, ['concurrency_controlled'])
        return running === 1 && parked >= 1
      })
      victim.proc.kill('SIGKILL')
      await victim.exited
      const rescuer = await rescue(t.app, 4)
      expect(await group.results()).toHaveLength(N)
      await rescuer.stop()
      await expectEachEffectOnce(key, N)
      for (const inv of group.invocations) {
        const statuses = (await inv.history()).map((e) => e.status)
        expect(isValidStatusPath(statuses), statuses.join(' → ')).toEqual({ ok: true })
        expect(statuses.at(-1)).toBe('success')
        // Parked, not polled: a bounded history whatever the wait.
        expect(statuses.length, statuses.join(' → ')).toBeLessThanOrEqual(12)
      }
    }, 60_000)
    it(`${backend}: kill -9 while parents wait on their children: recovered parents reuse their children, each effect once`, async () => {
      const P = 5
      const { t, key } = await testApp(backend, 'k9p')
      const parents = await t.effectParent.parallelize(
        Array.from({ length: P }, () => [key, 1500] as [string, number]),
      )
      const victim = runnerProcess('ThreadRunner', { maxThreads: 20 })
      await victim.running
      await until('every child running', async () => (await countStatus(t.app, ['running'])) >= P * 3)
      victim.proc.kill('SIGKILL')
      await victim.exited
      const rescuer = await rescue(t.app, 20)
      const results = await parents.results()
      await rescuer.stop()
      expect(results.flat()).toHaveLength(P * 2)
      // Recovered parents ran again and found the children their first run created.
      for (const inv of parents.invocations) {
        expect(await t.app.backend.stateBackend.getChildInvocations(inv.id)).toHaveLength(2)
        expect((await inv.history()).map((h) => h.status)).toContain('running_recovery')
      }
      await expectEachEffectOnce(key, P * 2)
    }, 60_000)
    it(`${backend}: kill -9 mid-way through workflows: they finish on another runner, same recorded values, each child once`, async () => {
      const P = 3
      const { t, key } = await testApp(backend, 'k9w')
      const flows = await t.effectWorkflow.parallelize(
        Array.from({ length: P }, () => [key, 2000] as [string, number]),
      )
      const victim = runnerProcess('ThreadRunner', { maxThreads: 20 })
      await victim.running
      // Killed once every workflow's first child has finished (its success written, not only its
      // effect) and its second child runs.
      await until('every first child finished and every second one running', async () => {
        for (const inv of flows.invocations) {
          const kids = await t.app.backend.stateBackend.getChildInvocations(inv.id)
          if (kids.length !== 2) return false
          const [first, second] = await t.app.backend.orchestrator.getStates(kids)
          if (first?.status !== 'success' || second?.status !== 'running') return false
        }
        return true
      })
      victim.proc.kill('SIGKILL')
      await victim.exited
      const rescuer = await rescue(t.app, 20)
      const results = await flows.results()
      await rescuer.stop()
      const ids = results.map((r) => r[0]!)
      const check = redisClient()
      try {
        // Every run of each workflow (the killed one and the recovered one) got the same uuid.
        const pushed = await check.lrange(`${key}:uuids`, 0, -1)
        expect(pushed.length).toBeGreaterThanOrEqual(P * 2)
        expect(new Set(pushed)).toEqual(new Set(ids))
        await check.del(`${key}:uuids`)
      } finally {
        await check.quit()
      }
      for (const inv of flows.invocations)
        expect((await inv.history()).map((h) => h.status)).toContain('running_recovery')
      await expectEachEffectOnce(key, P * 2)
    }, 60_000)
    // Every runner on the first backend; the others repeat the ThreadRunner case only, to keep
    // the suite fast (the stop path of process runners does not depend on the backend).
    const kinds = [
      ['ThreadRunner', { maxThreads: 50 }, 40],
      ['PersistentProcessRunner', { numProcesses: 2 }, 2],
      ['ProcessRunner', { maxProcesses: 2, warmProcesses: 2 }, 2],
    ] as const
    for (const [kind, options, n] of backend === backends[0] ? kinds : kinds.slice(0, 1)) {
      it(`${backend}: SIGTERM with stopGraceMs 100 stops a ${kind}: running → killed → rerouted while owned, finished elsewhere`, async () => {
        const { t, key } = await testApp(backend, 'term')
        const group = await t.effect.parallelize(
          Array.from({ length: n }, () => [key, 2000] as [string, number]),
        )
        // A grace period shorter than the tasks: all of them still run when it ends.
        const victim = runnerProcess(kind, options, { NENC__RUNNER__STOP_GRACE_MS: '100' })
        await victim.running
        await until(`${n} running`, async () => (await countStatus(t.app, ['running'])) >= n)
        victim.proc.kill('SIGTERM')
        expect(await victim.exited).toBe(0)
        // Nothing is left RUNNING for recovery: the stop rerouted everything.
        expect(await countStatus(t.app, ['running', 'pending'])).toBe(0)
        const rescuer = await rescue(t.app, 50)
        await group.results()
        await rescuer.stop()
        await expectEachEffectOnce(key, n)
        for (const inv of group.invocations) {
          const h = await inv.history()
          const statuses = h.map((e) => e.status)
          expect(isValidStatusPath(statuses)).toEqual({ ok: true })
          expect(statuses.slice(-6)).toEqual([
            'running',
            'killed',
            'rerouted',
            'pending',
            'running',
            'success',
          ])
          const [running, killed] = h.slice(-6)
          // Killed by its owner, before it let go of the invocation.
          expect(killed!.actor).toBe(running!.actor)
          expect(h.at(-1)!.actor).toBe(rescuer.runnerId)
        }
      }, 60_000)
    }

    for (const [kind, options, n] of backend === backends[0] ? kinds : kinds.slice(0, 1)) {
      // 1.5 s tasks: long enough that all n run at once even when a loaded machine starts one
      // child well after the other (with 300 ms tasks the first child could finish both in turn).
      it(`${backend}: SIGTERM with stopGraceMs 5000 lets a ${kind} finish its 1.5 s tasks itself, each once`, async () => {
        const { t, key } = await testApp(backend, 'grace')
        const group = await t.effect.parallelize(
          Array.from({ length: n }, () => [key, 1500] as [string, number]),
        )
        const victim = runnerProcess(kind, options, { NENC__RUNNER__STOP_GRACE_MS: '5000' })
        const { runnerId } = await victim.running
        await until(`${n} running`, async () => (await countStatus(t.app, ['running'])) >= n)
        victim.proc.kill('SIGTERM')
        expect(await victim.exited).toBe(0)
        // Finished on the stopped runner, outcomes flushed before it exited.
        expect(await countStatus(t.app, ['success'])).toBe(n)
        await expectEachEffectOnce(key, n)
        for (const inv of group.invocations) {
          const h = await inv.history()
          const statuses = h.map((e) => e.status)
          expect(isValidStatusPath(statuses)).toEqual({ ok: true })
          expect(statuses).toEqual(['registered', 'pending', 'running', 'success'])
          expect(h.at(-1)!.actor).toBe(h.at(-2)!.actor)
          if (kind === 'ThreadRunner') expect(h.at(-1)!.actor).toBe(runnerId)
        }
      }, 60_000)
    }

    // Backend-independent (children reroute over IPC loss), so only on the first backend.
    if (backend !== backends[0]) continue
    it(`${backend}: kill -9 of a process runner's parent: its children reroute what they run and exit`, async () => {
      const { t, key } = await testApp(backend, 'orphan')
      const group = await t.effect.parallelize([
        [key, 20_000],
        [key, 20_000],
      ])
      const victim = runnerProcess('PersistentProcessRunner', { numProcesses: 2 })
      await victim.running
      await until('2 running', async () => (await countStatus(t.app, ['running'])) === 2)
      const t0 = Date.now()
      victim.proc.kill('SIGKILL')
      // No runner is alive to run recovery: only the orphaned children can reroute.
      await until('both rerouted', async () => (await countStatus(t.app, ['rerouted'])) === 2, 15_000)
      const rerouteMs = Date.now() - t0
      for (const inv of group.invocations) {
        const h = await inv.history()
        expect(h.map((e) => e.status).slice(-3)).toEqual(['running', 'killed', 'rerouted'])
        expect(h.at(-2)!.actor).toBe(h.at(-3)!.actor)
        expect(h.at(-2)!.actor).toMatch(/^PersistentProcessWorker-/)
      }
      // Well before recovery could have acted (runnerDeadAfterMs is 1500 ms, and no runner runs it).
      console.log(`[orphans] rerouted ${rerouteMs} ms after the parent was killed`)
    }, 60_000)
  }
})
