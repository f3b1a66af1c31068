import { Nenc } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { Redis } from 'ioredis'
import type { BackendFactory } from './backends.js'
import { printLine, progress, round, uniqueSuffix } from './measure.js'
import type { BenchOptions } from './options.js'
import { stderrLogger } from './stderr-logger.js'

/** `used_memory` (bytes the allocator holds for data) from `INFO memory`. */
async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory')
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN)
}

/** Keys of one app (its `<keyPrefix>:{<appId>}:` prefix), counted with SCAN. */
async function keysOf(redis: Redis, appId: string): Promise<number> {
  let cursor = '0'
  let n = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `nenc-bench:{${appId}}:*`, 'COUNT', 1000)
    cursor = next
    n += keys.length
  } while (cursor !== '0')
  return n
}

/**
 * `redis-memory-per-finished`: what one finished invocation costs in Redis while it is kept —
 * the `used_memory` delta and the key count of an app after N no-op invocations finish, per
 * invocation — and what is left once core's retention sweep (`app.purgeFinished`) has removed
 * them. The runner runs in this process: where an invocation runs does not change what is
 * stored. `used_memory` is server-wide, so other clients of a shared server add noise; the key
 * count is the app's own.
 */
export async function redisMemoryPerFinished(o: BenchOptions, factory: BackendFactory): Promise<void> {
  const n = o.serverN
  const redis = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const appId = `bench-mem-${uniqueSuffix()}`
  const app = new Nenc({
    appId,
    backend: factory(o.redisUrl),
    runner: new ThreadRunner({ maxThreads: 50 }),
    config: { task: { parallelBatchSize: 1000 } },
    logger: stderrLogger('redis-memory'),
  })
  try {
    const noop = app.task('noop', async (i: number) => i)
    await app.ready()
    const before = await usedMemory(redis)
    await app.runner.start()
    progress(`redis memory per finished invocation: ${n} invocations`)
    const group = await noop.parallelize(Array.from({ length: n }, (_, i) => [i] as [number]))
    const results = await group.results()
    if (results.length !== n || results.some((r, i) => r !== i)) throw new Error('wrong results')
    await app.runner.stop()
    const kept = await usedMemory(redis)
    const keysKept = await keysOf(redis, appId)
    const removed = await app.purgeFinished(0)
    const after = await usedMemory(redis)
    const keysAfter = await keysOf(redis, appId)
    printLine({
      scenario: 'redis-memory-per-finished',
      backend: 'redis',
      n,
      nenc: {
        bytesPerFinishedInv: round((kept - before) / n, 0),
        keysPerFinishedInv: round(keysKept / n, 2),
        removedByRetention: removed,
        bytesPerInvAfterRetention: round((after - before) / n, 0),
        keysLeftAfterRetention: keysAfter,
      },
      note: 'used_memory delta of the whole server (other clients add noise); keys are the app’s own (SCAN of its prefix), runner records included',
    })
  } finally {
    await app.purge().catch(() => {})
    await app.close()
    redis.disconnect()
  }
}
