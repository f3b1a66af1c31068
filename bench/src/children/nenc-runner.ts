/**
 * Child process: one nenc runner (ThreadRunner, `maxThreads` = the scenario's concurrency) on a
 * server backend, running the same no-op task the parent routes. The parent routes and waits.
 */
import { Nenc } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { loadBackend, type NencMode, type ServerKind } from '../backends.js'
import { stderrLogger } from '../stderr-logger.js'
import { serveParent } from './protocol.js'

interface NencRunnerConfig {
  kind: ServerKind
  url: string
  appId: string
  maxThreads: number
  prefetch?: number
  mode?: NencMode
}

serveParent<NencRunnerConfig>(async (config) => {
  const factory = await loadBackend(config.kind, config.mode)
  const app = new Nenc({
    appId: config.appId,
    backend: factory(config.url),
    runner: new ThreadRunner({ maxThreads: config.maxThreads, prefetch: config.prefetch ?? 0 }),
    logger: stderrLogger(`runner ${config.appId}`),
  })
  app.task('noop', async (i: number) => i)
  await app.runner.start()
  return () => app.close()
})
