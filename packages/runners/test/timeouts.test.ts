import { TaskError } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import { MultiThreadRunner, PersistentProcessRunner, ProcessRunner } from '../src/index.js'
import { APP_MODULE, availableBackends, type Started, startApp } from './helpers.js'

/**
 * `burn` blocks its event loop past `timeoutMs: 400` (maxRetries 1): the process runners SIGKILL
 * the child, the retry policy reruns it once, and the second timeout fails it with
 * TaskTimeoutError.
 */
let current: Started | null = null
afterEach(async () => {
  await current?.close()
  current = null
})

const [backend] = availableBackends(['redis', 'postgres'])
const kinds = [
  () => new ProcessRunner({ appModule: APP_MODULE, maxProcesses: 1, warmProcesses: 1 }),
  () => new PersistentProcessRunner({ appModule: APP_MODULE, numProcesses: 1 }),
  () => new MultiThreadRunner({ appModule: APP_MODULE, minProcesses: 1, maxProcesses: 1, maxThreads: 2 }),
]

describe.skipIf(!backend)(`task timeouts kill the child (${backend})`, () => {
  for (const make of kinds) {
    it(`${make().constructor.name}: SIGKILL on timeout, RETRY with the same id, then FAILED with TaskTimeoutError`, async () => {
      const s = (current = await startApp(backend!, make()))
      const t0 = Date.now()
      const inv = await s.burn(60_000)
      const err = await inv.result().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(TaskError)
      expect((err as TaskError).remote.name).toBe('TaskTimeoutError')
      expect(Date.now() - t0).toBeLessThan(30_000)
      const statuses = (await inv.history()).map((h) => h.status)
      expect(statuses).toEqual(['registered', 'pending', 'running', 'retry', 'pending', 'running', 'failed'])
      // The runner keeps working after killing the child.
      expect(await (await s.add(1, 1)).result()).toBe(2)
    }, 60_000)
  }
})

if (!backend)
  console.warn('[runners tests] timeout tests skipped: no Redis/PostgreSQL backend package is built.')
