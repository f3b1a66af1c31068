/**
 * The app the CPU-bound runner scenarios run: loaded by module path in the bench process and in
 * every runner child, so each builds the same tasks over the same Redis app id (from the env).
 */
import { Nenc } from '@nenc/core'
import { redisBackend } from '@nenc/redis'

export const app = new Nenc({
  appId: process.env.NENC_BENCH_CPU_APP_ID ?? 'nenc-bench-cpu',
  backend: redisBackend({ url: process.env.NENC_REDIS_URL ?? 'redis://127.0.0.1:6379' }),
  config: { orchestrator: { resultPollMs: 200 }, runner: { idleWakeMs: 200 } },
  env: {},
})

/**
 * A fixed amount of computation (not a fixed wall time: a spin until a deadline would finish on
 * time even on an oversubscribed core and flatter the runner). The bench calibrates how long
 * `rounds` take on one idle core before timing the runners.
 */
export const burn = app.task('burn', (rounds: number) => {
  let x = 0
  for (let i = 0; i < rounds; i++) x = (x + Math.sqrt(i * 1.000001)) % 1e9
  return Math.round(x)
})

export const noop = app.task('noop', () => 1)
