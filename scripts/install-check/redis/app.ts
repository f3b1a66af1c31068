// A TypeScript app as a user writes it outside the monorepo: Redis backend, a parent fanning out.
import { Nenc } from '@nenc/core'
import { redisBackend } from '@nenc/redis'

export const app = new Nenc({
  appId: process.env.NENC_CHECK_APP_ID ?? 'install-check',
  backend: redisBackend({ url: process.env.NENC_REDIS_URL ?? 'redis://127.0.0.1:6379' }),
})

export const add = app.task('add', async (x: number, y: number) => x + y)

export const total = app.task('total', async (xs: number[]) => {
  const group = await add.parallelize(xs.map((x) => [x, 1] as [number, number]))
  const parts = await group.results()
  return parts.reduce((a, b) => a + b, 0)
})
