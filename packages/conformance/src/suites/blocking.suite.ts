import { RetryError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, newRequests, useBackend } from '../harness.js'

export function describeBlockingControl(name: string, factory: BackendFactory): void {
  describe(`${name}: blocking control`, () => {
    const { components, app: makeApp } = useBackend(factory)

    it('an awaited child in RETRY is not started before its backoff has passed', async () => {
      const app = await makeApp({ maxThreads: 2, config: { orchestrator: { blockingControl: true } } })
      const starts: number[] = []
      const flaky = app.task(
        'flaky',
        async () => {
          starts.push(Date.now())
          if (starts.length < 3) throw new RetryError('not yet')
          return 'ok'
        },
        { maxRetries: 3, retryBackoffMs: 300 },
      )
      const parent = app.task('parent', async () => (await flaky()).result())
      await app.runner.start()
      expect(await (await parent()).result()).toBe('ok')
      expect(starts).toHaveLength(3)
      // Backoff 300 ms, then 600 ms (doubled): a retry may start late, never early.
      expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(290)
      expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(590)
    })

    it('getBlockingInvocations() ranks by number of waiters, then oldest first', async () => {
      const { backend } = await components()
      const waited = newRequests(4)
      const waiters = newRequests(6)
      await backend.orchestrator.register([...waited, ...waiters])
      const [a, b, c, d] = waited.map((r) => r.id)
      const w = waiters.map((r) => r.id)
      await backend.orchestrator.addWaiting(w[0]!, [b!])
      await backend.orchestrator.addWaiting(w[1]!, [c!, b!])
      await backend.orchestrator.addWaiting(w[2]!, [c!, b!])
      await backend.orchestrator.addWaiting(w[3]!, [a!])
      await backend.orchestrator.addWaiting(w[4]!, [d!])
      // a and d have one waiter each: a is older, so it comes first
      expect(await backend.orchestrator.getBlockingInvocations(10)).toEqual([b, c, a, d])
      expect(await backend.orchestrator.getBlockingInvocations(2)).toEqual([b, c])
      expect(await backend.orchestrator.getBlockingInvocations(0)).toEqual([])
    })

    it('an invocation that itself waits, or is not available for run, is not blocking', async () => {
      const { backend } = await components()
      const [x, y, z, parent] = newRequests(4)
      await backend.orchestrator.register([x!, y!, z!, parent!])
      await backend.orchestrator.addWaiting(parent!.id, [x!.id, y!.id])
      await backend.orchestrator.addWaiting(x!.id, [z!.id]) // x waits on z
      await backend.orchestrator.claim([y!.id], 'r1') // y is PENDING now
      expect(await backend.orchestrator.getBlockingInvocations(10)).toEqual([z!.id])
    })

    it('a final status releases the edges of the invocation it ends', async () => {
      const { backend } = await components()
      const [child, parent] = newRequests(2)
      await backend.orchestrator.register([child!, parent!])
      await backend.orchestrator.addWaiting(parent!.id, [child!.id])
      expect(await backend.orchestrator.getBlockingInvocations(5)).toEqual([child!.id])
      await backend.orchestrator.claim([child!.id], 'r1')
      await backend.orchestrator.transition([
        { id: child!.id, to: 'running', actor: 'r1' },
        { id: child!.id, to: 'success', actor: 'r1' },
      ])
      const [other] = newRequests(1)
      await backend.orchestrator.register([other!])
      await backend.orchestrator.addWaiting(child!.id, [other!.id]) // a finished invocation waits on nothing
      await backend.orchestrator.addWaiting(parent!.id, [other!.id])
      expect(await backend.orchestrator.getBlockingInvocations(5)).toEqual([other!.id])
    })

    it('subscribeFinal() reports ids that reach a final status', async () => {
      const { backend } = await components()
      const seen: string[] = []
      const unsubscribe = await backend.orchestrator.subscribeFinal((ids) => seen.push(...ids))
      const [a, b] = newRequests(2, { runningKey: 'final-k' })
      await backend.orchestrator.register([a!, b!])
      const out = await backend.orchestrator.claim([a!.id, b!.id], 'r1') // b → CONCURRENCY_CONTROLLED_FINAL
      expect(out.map((o) => o.outcome)).toEqual(['claimed', 'controlled_final'])
      await backend.orchestrator.transition([
        { id: a!.id, to: 'running', actor: 'r1' },
        { id: a!.id, to: 'failed', actor: 'r1' },
      ])
      const until = Date.now() + 3000
      while (seen.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
      expect(seen.sort()).toEqual([a!.id, b!.id].sort())
      await unsubscribe()
    })
  })
}
