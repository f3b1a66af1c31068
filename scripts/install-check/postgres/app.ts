// A TypeScript app on PostgreSQL with an in-process ThreadRunner (no CLI installed here).
import { Nenc } from '@nenc/core'
import { postgresBackend } from '@nenc/postgres'
import { ThreadRunner } from '@nenc/runners'

export const app = new Nenc({
  appId: 'install-check',
  backend: postgresBackend({
    connectionString: process.env.NENC_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    schema: process.env.NENC_CHECK_SCHEMA ?? 'nenc_install_check',
  }),
  runner: new ThreadRunner(),
})

export const add = app.task('add', async (x: number, y: number) => x + y)

export const total = app.task('total', async (xs: number[]) => {
  const group = await add.parallelize(xs.map((x) => [x, 1] as [number, number]))
  const parts = await group.results()
  return parts.reduce((a, b) => a + b, 0)
})
