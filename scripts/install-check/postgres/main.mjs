// Plain Node ESM on PostgreSQL: app, runner and caller in one file.
import { Nenc } from '@nenc/core'
import { postgresBackend } from '@nenc/postgres'
import { ThreadRunner } from '@nenc/runners'

const app = new Nenc({
  appId: 'install-check-esm',
  backend: postgresBackend({
    connectionString: process.env.NENC_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    schema: process.env.NENC_CHECK_SCHEMA ?? 'nenc_install_check',
  }),
  runner: new ThreadRunner(),
})
const mul = app.task('mul', async (x, y) => x * y)

await app.runner.start()
const result = await (await mul(6, 7)).result({ timeoutMs: 30_000 })
console.log(JSON.stringify({ mul: result }))
await app.runner.stop()
await app.close()
if (result !== 42) process.exit(1)
