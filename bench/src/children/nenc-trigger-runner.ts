/**
 * Child process: one nenc runner (ThreadRunner) of the trigger scenario's app. Its atomic-service
 * slot evaluates the 1,000 cron triggers; it runs what they route. The parent only reads.
 */
import { ThreadRunner } from '@nenc/runners'
import { loadBackend, type ServerKind } from '../backends.js'
import { stderrLogger } from '../stderr-logger.js'
import { triggerApp } from '../trigger-app.js'
import { serveParent } from './protocol.js'

interface TriggerRunnerConfig {
  kind: ServerKind
  url: string
  appId: string
  maxThreads: number
}

serveParent<TriggerRunnerConfig>(async (config) => {
  const factory = await loadBackend(config.kind)
  const app = triggerApp(config.appId, factory(config.url), {
    runner: new ThreadRunner({ maxThreads: config.maxThreads }),
    logger: stderrLogger(`trigger runner ${config.appId}`),
  })
  await app.runner.start()
  return () => app.close()
})
