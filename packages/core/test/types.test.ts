import { describe, expectTypeOf, it } from 'vitest'
import { type Backend, type Invocation, type InvocationGroup, Nenc } from '../src/index.js'

// Compile-time checks (pnpm typecheck): argument and result types are inferred from the function.
describe('task types', () => {
  it('infer arguments and results from the task function', () => {
    const c = { backendName: 'inert', inMemory: true, init: async () => {}, close: async () => {} }
    const backend = {
      broker: c,
      orchestrator: c,
      stateBackend: c,
      clientDataStore: c,
      triggerStore: c,
    } as unknown as Backend
    const app = new Nenc({ backend, devMode: { syncTasks: true }, env: {} })
    const add = app.task('typed.add', async (x: number, y: number) => x + y)
    expectTypeOf(add).parameters.toEqualTypeOf<[x: number, y: number]>()
    expectTypeOf(add).returns.toEqualTypeOf<Promise<Invocation<number>>>()
    const sync = app.task('typed.sync', (s: string) => s.length)
    expectTypeOf(sync).returns.toEqualTypeOf<Promise<Invocation<number>>>()
    const xs = [1, 2, 3]
    expectTypeOf(add.parallelize(xs.map((x) => [x, 1]))).toEqualTypeOf<Promise<InvocationGroup<number>>>()
    const direct = app.directTask('typed.direct', async (o: { a: string }) => [o.a])
    expectTypeOf(direct).toEqualTypeOf<(o: { a: string }) => Promise<string[]>>()
    // @ts-expect-error wrong argument type
    void (() => add('1', 2))
  })
})
