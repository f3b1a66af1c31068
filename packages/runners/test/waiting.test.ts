import { afterEach, describe, expect, it } from 'vitest'
import { MultiThreadRunner, PersistentProcessRunner, ProcessRunner } from '../src/index.js'
import { APP_MODULE, availableBackends, type Started, startApp } from './helpers.js'

/**
 * Waiting frees the slot on every runner: more parents than workers, each parent awaiting
 * children that are still queued, must finish rather than deadlock.
 */
let current: Started | null = null
afterEach(async () => {
  await current?.close()
  current = null
})

const [backend] = availableBackends(['redis', 'postgres'])

describe.skipIf(!backend)(`waiting parents free their slots (${backend})`, () => {
  it('PersistentProcessRunner: 4 parents on 2 single-slot children finish', async () => {
    const s = (current = await startApp(
      backend!,
      new PersistentProcessRunner({ appModule: APP_MODULE, numProcesses: 2 }),
    ))
    const group = await s.sumOf.parallelize([[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]]])
    expect(await group.results()).toEqual([3, 7, 11, 15])
  }, 60_000)

  it('MultiThreadRunner: 6 parents on one child with 2 threads finish', async () => {
    const s = (current = await startApp(
      backend!,
      new MultiThreadRunner({ appModule: APP_MODULE, minProcesses: 1, maxProcesses: 1, maxThreads: 2 }),
    ))
    const group = await s.sumOf.parallelize([[[1]], [[2]], [[3]], [[4]], [[5]], [[6]]])
    expect(await group.results()).toEqual([1, 2, 3, 4, 5, 6])
  }, 60_000)

  it('ProcessRunner: 2 parents with 1 slot finish: a waiting child is not counted', async () => {
    const runner = new ProcessRunner({ appModule: APP_MODULE, maxProcesses: 1, warmProcesses: 1 })
    const s = (current = await startApp(backend!, runner))
    const group = await s.sumOf.parallelize([[[1, 1]], [[2]]])
    expect(await group.results()).toEqual([2, 2])
  }, 90_000)
})

if (!backend)
  console.warn('[runners tests] waiting tests skipped: no Redis/PostgreSQL backend package is built.')
