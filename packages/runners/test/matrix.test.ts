import { isValidStatusPath, Nenc, RunnerIncompatibleError, TaskError } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { bindRunner } from '../src/index.js'
import { createBackend } from './fixtures/backend.mjs'
import { availableBackends, type Started, startApp } from './helpers.js'
import { RUNNER_KINDS } from './runner-kinds.js'

/**
 * The combination matrix: every runner × every available backend runs the same small
 * end-to-end scenario; runners that execute tasks outside the process are refused with memory
 * components.
 */
let current: Started | null = null
afterEach(async () => {
  await current?.close()
  current = null
})

async function expectValidHistories(s: Started, ids: string[]): Promise<void> {
  for (const id of ids) {
    const statuses = (await s.app.invocation(id).history()).map((h) => h.status)
    expect(isValidStatusPath(statuses), `${id}: ${statuses.join(' → ')}`).toEqual({ ok: true })
  }
}

for (const backend of availableBackends(['memory', 'redis', 'postgres'])) {
  describe(`${backend} backend`, () => {
    for (const kind of RUNNER_KINDS) {
      if (backend === 'memory' && !kind.memCompatible) {
        it(`${kind.name} is refused with memory components, naming the runner and the component`, async () => {
          expect(
            () => new Nenc({ appId: 'refused', backend: { ...memoryLike() }, runner: kind.make() }),
          ).toThrow(RunnerIncompatibleError)
          const app = new Nenc({ appId: 'refused', backend: await createBackend('memory') })
          const err = (() => {
            try {
              bindRunner(app, kind.make())
            } catch (e) {
              return e
            }
          })()
          expect(err).toBeInstanceOf(RunnerIncompatibleError)
          expect((err as Error).message).toContain(kind.name)
          expect((err as Error).message).toContain('broker (memory)')
        })
        continue
      }
      it(`${kind.name}: results, a failure, a retry and a parent awaiting its children`, async () => {
        const s = (current = await startApp(backend, kind.make(), 'mx'))
        const [sum, failed, flaky, parent] = await Promise.all([
          s.add(2, 3),
          s.fail('boom'),
          s.flaky(7),
          s.sumOf([1, 2, 3]),
        ])
        expect(await sum.result()).toBe(5)
        const err = await failed.result().catch((e: unknown) => e)
        expect(err).toBeInstanceOf(TaskError)
        expect((err as TaskError).remote).toMatchObject({ name: 'TypeError', message: 'boom' })
        expect(await flaky.result()).toBe(7)
        expect((await flaky.history()).map((h) => h.status)).toContain('retry')
        expect(await parent.result()).toBe(6)
        const children = await s.app.backend.stateBackend.getChildInvocations(parent.id)
        expect(children).toHaveLength(3)
        await expectValidHistories(s, [sum.id, failed.id, flaky.id, parent.id, ...children])
        if (!kind.memCompatible) {
          // Work ran under child runner ids whose contexts name this runner.
          const [h] = (await sum.history()).filter((e) => e.status === 'running')
          expect(h!.actor).not.toBe(s.runner.runnerId)
          const ctx = await s.app.backend.stateBackend.getRunnerContext(h!.actor!)
          expect(ctx?.parentRunnerId).toBe(s.runner.runnerId)
        }
      }, 60_000)
    }
  })
}

/** Memory components built synchronously for the constructor check. */
function memoryLike() {
  const fake = { backendName: 'memory', inMemory: true, init: async () => {}, close: async () => {} }
  return {
    broker: fake,
    orchestrator: fake,
    stateBackend: fake,
    clientDataStore: fake,
    triggerStore: fake,
  } as unknown as ConstructorParameters<typeof Nenc>[0]['backend']
}
