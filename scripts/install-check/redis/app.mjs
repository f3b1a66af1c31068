// The same app in plain Node ESM (no TypeScript, no tsx), on its own app id.
import { Nenc } from '@nenc/core'
import { redisBackend } from '@nenc/redis'

export const app = new Nenc({
  appId: `${process.env.NENC_CHECK_APP_ID ?? 'install-check'}-esm`,
  backend: redisBackend({ url: process.env.NENC_REDIS_URL ?? 'redis://127.0.0.1:6379' }),
})

export const mul = app.task('mul', async (x, y) => x * y)
