import {
  InvalidTransitionError,
  newInvocationId,
  RetryError,
  SerializationError,
  TaskError,
  transitionOrThrow,
} from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { eventually } from '../assertions.js'
import { type BackendFactory, useBackend } from '../harness.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function describeEndToEnd(name: string, factory: BackendFactory): void {
  describe(`${name}: end to end through ThreadRunner`, () => {
    const { app: makeApp } = useBackend(factory)

    it('a call resolves with its result and records registered → pending → running → success', async () => {
      const app = await makeApp()
      const add = app.task('add', async (x: number, y: number) => x + y)
      await app.runner.start()
      const inv = await add(1, 2)
      expect(await inv.result()).toBe(3)
      expect(await inv.status()).toBe('success')
      const history = await inv.history()
      expect(history.map((h) => h.status)).toEqual(['registered', 'pending', 'running', 'success'])
      expect(history[1]!.owner).toBe(app.runner.runnerId)
    })

    it('parents waiting on children finish on fewer slots than parents (waiting frees the slot)', async () => {
      const app = await makeApp({ maxThreads: 2 })
      const square = app.task('square', async (x: number) => x * x)
      const total = app.task('total', async (xs: number[]) => {
        const group = await square.parallelize(xs.map((x) => [x] as [number]))
        return (await group.results()).reduce((a, b) => a + b, 0)
      })
      await app.runner.start()
      const parents = await total.parallelize([[[1, 2]], [[3]], [[4, 5, 6]], [[7]], [[8, 9]]])
      expect(await parents.results()).toEqual([5, 9, 77, 49, 145])
      for (const p of parents.invocations) {
        const h = (await p.history()).map((e) => e.status)
        expect(h).toEqual(['registered', 'pending', 'running', 'success'])
      }
    })

    it('a failing task rejects result() with a TaskError carrying the remote name and message', async () => {
      const app = await makeApp()
      const boom = app.task('boom', async (msg: string) => {
        throw new TypeError(msg)
      })
      await app.runner.start()
      const inv = await boom('bad input')
      const err = await inv.result().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(TaskError)
      expect((err as TaskError).remote).toMatchObject({ name: 'TypeError', message: 'bad input' })
      expect((err as TaskError).invocationId).toBe(inv.id)
      expect(await inv.status()).toBe('failed')
    })

    it('retries a retriable error up to maxRetries with backoff, keeping the invocation id', async () => {
      const app = await makeApp()
      let calls = 0
      class Flaky extends Error {}
      const flaky = app.task(
        'flaky',
        async () => {
          calls++
          if (calls < 3) throw new Flaky(`attempt ${calls}`)
          return calls
        },
        { maxRetries: 2, retryFor: [Flaky], retryBackoffMs: 60 },
      )
      await app.runner.start()
      const inv = await flaky()
      expect(await inv.result()).toBe(3)
      const h = await inv.history()
      expect(h.map((e) => e.status)).toEqual([
        'registered',
        'pending',
        'running',
        'retry',
        'pending',
        'running',
        'retry',
        'pending',
        'running',
        'success',
      ])
      const retries = h.flatMap((e, i) => (e.status === 'retry' ? [i] : []))
      // backoff doubles: ≥ 60 ms after the first retry, ≥ 120 ms after the second
      expect(h[retries[0]! + 1]!.timestamp - h[retries[0]!]!.timestamp).toBeGreaterThanOrEqual(55)
      expect(h[retries[1]! + 1]!.timestamp - h[retries[1]!]!.timestamp).toBeGreaterThanOrEqual(115)
    })

    it('fails after maxRetries, and fails at once for errors not in retryFor', async () => {
      const app = await makeApp()
      const always = app.task(
        'always',
        async () => {
          throw new RetryError('again')
        },
        { maxRetries: 1 },
      )
      const other = app.task(
        'other',
        async () => {
          throw new RangeError('not retriable')
        },
        { maxRetries: 5 },
      )
      await app.runner.start()
      const [a, b] = [await always(), await other()]
      await expect(a.result()).rejects.toBeInstanceOf(TaskError)
      await expect(b.result()).rejects.toMatchObject({ remote: { name: 'RangeError' } })
      expect((await a.history()).filter((e) => e.status === 'retry')).toHaveLength(1)
      expect((await b.history()).filter((e) => e.status === 'retry')).toHaveLength(0)
    })

    it('an invocation of a task the runner does not define ends FAILED and the runner keeps going', async () => {
      const app = await makeApp()
      const ok = app.task('ok', async () => 'still running')
      await app.runner.start()
      const id = newInvocationId()
      const { stateBackend, orchestrator, broker } = app.backend
      await stateBackend.upsertInvocations([
        {
          id,
          taskId: `${app.appId}.ghost`,
          taskName: 'ghost',
          callId: 'c',
          args: '[]',
          parentId: null,
          workflow: { id, type: 'ghost', parentWorkflowId: null },
          createdAt: Date.now(),
        },
      ])
      await orchestrator.register([
        {
          id,
          taskId: `${app.appId}.ghost`,
          callId: 'c',
          actor: 'test',
          registrationKey: null,
          runningKey: null,
          rerouteOnConcurrencyControl: false,
        },
      ])
      await broker.route([id])
      const err = await app
        .invocation(id, 'ghost')
        .result()
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(TaskError)
      expect((err as TaskError).remote.name).toBe('TaskNotFoundError')
      expect((err as TaskError).remote.message).toContain('ghost')
      expect(await (await ok()).result()).toBe('still running')
    })

    it('an unserializable argument fails at call time naming the argument, and stores nothing', async () => {
      const app = await makeApp()
      const t = app.task('takesFn', async (_a: number, _b: unknown) => 1)
      const err = await t(1, { nested: [() => 1] }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SerializationError)
      expect((err as SerializationError).path).toBe('takesFn(arg 2).nested[0]')
      expect(await app.backend.orchestrator.listInvocations({})).toEqual([])
      expect(await app.backend.broker.count()).toBe(0)
    })

    it('an invalid transition throws a typed error and writes nothing', async () => {
      const app = await makeApp()
      const t = app.task('idle', async () => 1)
      const inv = await t()
      const err = await transitionOrThrow(app.backend.orchestrator, {
        id: inv.id,
        to: 'success',
        actor: 'x',
      }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidTransitionError)
      expect(err).toMatchObject({ from: 'registered', to: 'success' })
      expect((await inv.history()).map((h) => h.status)).toEqual(['registered'])
    })

    it('large arguments go through the client data store once and arrive intact', async () => {
      const app = await makeApp({ config: { clientDataStore: { minSizeToCache: 1000 } } })
      const big = { text: 'z'.repeat(50_000), n: 7 }
      const size = app.task('size', async (b: typeof big, i: number) => b.text.length + b.n + i)
      await app.runner.start()
      const group = await size.parallelize([0, 1, 2].map((i) => [big, i] as [typeof big, number]))
      expect(await group.results()).toEqual([50_007, 50_008, 50_009])
      const { sha256 } = await import('@nenc/core')
      const key = sha256(app.serializer.serialize(big))
      expect((await app.backend.clientDataStore.retrieve([key]))[0]).toBe(app.serializer.serialize(big))
    })

    it('running concurrency (task scope, reroute) never lets two invocations run at once', async () => {
      const app = await makeApp({ maxThreads: 4 })
      const exclusive = app.task(
        'exclusive',
        async (i: number) => {
          await sleep(25)
          return i
        },
        { runningConcurrency: 'task', rerouteOnConcurrencyControl: true },
      )
      await app.runner.start()
      const group = await exclusive.parallelize([[1], [2], [3], [4]])
      expect(await group.results()).toEqual([1, 2, 3, 4])
      const spans = await Promise.all(
        group.invocations.map(async (inv) => {
          const h = await inv.history()
          const start = h.find((e) => e.status === 'running')!.timestamp
          const end = h.find((e) => e.status === 'success')!.timestamp
          return [start, end] as const
        }),
      )
      spans.sort((a, b) => a[0] - b[0])
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1])
    })

    it('running concurrency in the arguments and keys scopes blocks only equal scopes', async () => {
      const app = await makeApp({ maxThreads: 8 })
      const spansOf = async (invs: { history(): Promise<{ status: string; timestamp: number }[]> }[]) =>
        Promise.all(
          invs.map(async (inv) => {
            const h = await inv.history()
            return [
              h.find((e) => e.status === 'running')!.timestamp,
              h.find((e) => e.status === 'success')!.timestamp,
            ] as const
          }),
        )
      const overlaps = (a: readonly [number, number], b: readonly [number, number]) =>
        a[0] < b[1] && b[0] < a[1]
      const byArgs = app.task(
        'byArgs',
        async (k: string) => {
          await sleep(40)
          return k
        },
        { runningConcurrency: 'arguments', rerouteOnConcurrencyControl: true },
      )
      const byKey = app.task(
        'byKey',
        async (user: { id: number; note: string }) => {
          await sleep(40)
          return user.note
        },
        {
          runningConcurrency: 'keys',
          keys: (user) => user.id,
          rerouteOnConcurrencyControl: true,
        },
      )
      await app.runner.start()
      const a = await byArgs.parallelize([['x'], ['x'], ['y']])
      const k = await byKey.parallelize([
        [{ id: 1, note: 'a' }],
        [{ id: 1, note: 'b' }],
        [{ id: 2, note: 'c' }],
      ])
      expect(await a.results()).toEqual(['x', 'x', 'y'])
      expect(await k.results()).toEqual(['a', 'b', 'c'])
      const [ax1, ax2, ay] = await spansOf([...a.invocations])
      expect(overlaps(ax1!, ax2!), 'same arguments never overlap').toBe(false)
      const [k1a, k1b, k2] = await spansOf([...k.invocations])
      expect(overlaps(k1a!, k1b!), 'same key never overlaps').toBe(false)
      // different scopes are not blocked: each ran alongside one of its siblings
      expect(overlaps(ay!, ax1!) || overlaps(ay!, ax2!)).toBe(true)
      expect(overlaps(k2!, k1a!) || overlaps(k2!, k1b!)).toBe(true)
    })

    it('blocked invocations wait for the key (the default), each with a short history: no polling', async () => {
      const app = await makeApp({ maxThreads: 4 })
      let running = 0
      let most = 0
      const single = app.task(
        'single',
        async (i: number) => {
          most = Math.max(most, ++running)
          await sleep(100)
          running--
          return i
        },
        { runningConcurrency: 'task' },
      )
      await app.runner.start()
      const group = await single.parallelize([[1], [2], [3], [4]])
      expect(await group.results()).toEqual([1, 2, 3, 4])
      expect(most).toBe(1)
      for (const inv of group.invocations) {
        const statuses = (await inv.history()).map((h) => h.status)
        // registered → (concurrency_controlled → rerouted)? → pending → running → success, at most twice parked.
        expect(statuses.length, statuses.join(' → ')).toBeLessThanOrEqual(8)
      }
    })

    it('running concurrency without reroute drops the blocked invocation: result() says so', async () => {
      const app = await makeApp({ maxThreads: 4 })
      const single = app.task(
        'single',
        async () => {
          await sleep(50)
          return 'ran'
        },
        { runningConcurrency: 'task', rerouteOnConcurrencyControl: false },
      )
      await app.runner.start()
      const group = await single.parallelize([[], []])
      const settled = await Promise.allSettled(group.invocations.map((i) => i.result()))
      expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected'])
      const rejected = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult
      expect(rejected.reason).toMatchObject({ code: 'CONCURRENCY_CONTROLLED' })
    })

    it('registration concurrency (arguments scope) reuses the queued invocation of the same call', async () => {
      const app = await makeApp()
      const once = app.task('once', async (k: string) => k.toUpperCase(), {
        registrationConcurrency: 'arguments',
      })
      const a = await once('x')
      const b = await once('x')
      const c = await once('y')
      expect(b.id).toBe(a.id)
      expect(b.reused).toBe(true)
      expect(c.id).not.toBe(a.id)
      await app.runner.start()
      expect(await b.result()).toBe('X')
    })

    it('for await over a group yields results in completion order', async () => {
      const app = await makeApp({ maxThreads: 4 })
      const wait = app.task('wait', async (ms: number) => {
        await sleep(ms)
        return ms
      })
      await app.runner.start()
      const group = await wait.parallelize([[150], [10], [80]])
      const order: number[] = []
      for await (const ms of group) order.push(ms)
      expect(order).toEqual([10, 80, 150])
    })

    it('stopping the runner moves a running invocation to KILLED and REROUTED; it runs again later', async () => {
      const app = await makeApp()
      let started = 0
      const slow = app.task('slow', async () => {
        started++
        if (started === 1) await sleep(60_000)
        return 'done'
      })
      await app.runner.start()
      const inv = await slow()
      await eventually(async () => (await inv.status()) === 'running', 3000, 'RUNNING')
      await app.runner.stop()
      expect((await inv.history()).map((h) => h.status)).toEqual([
        'registered',
        'pending',
        'running',
        'killed',
        'rerouted',
      ])
      await app.runner.start()
      expect(await inv.result()).toBe('done')
    })

    it('directTask returns the value and throws the task error', async () => {
      const app = await makeApp()
      const double = app.directTask('double', async (x: number) => {
        if (x < 0) throw new Error('negative')
        return x * 2
      })
      await app.runner.start()
      expect(await double(21)).toBe(42)
      await expect(double(-1)).rejects.toMatchObject({ remote: { message: 'negative' } })
    })
  })
}
