import { type Backend, Nenc, onCron, onEvent } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'

/**
 * The tasks every monitor test runs: a sum, a failure with a stack, an HTML-bearing result, a
 * parent; and two triggered tasks for the triggers page, which never fire in the tests (no test
 * emits "order.paid"; the cron time is Feb 29), so they add no invocation.
 */
export function monitorApp(appId: string, backend: Backend) {
  const app = new Nenc({
    appId,
    backend,
    runner: new ThreadRunner({ maxThreads: 4 }),
    config: { runner: { idleWakeMs: 100, heartbeatIntervalMs: 300 }, orchestrator: { resultPollMs: 200 } },
    env: {},
  })
  const add = app.task('add', async (x: number, y: number) => x + y)
  const boom = app.task('boom', async (code: string) => {
    throw new Error(`boom ${code}`)
  })
  const markup = app.task('markup', async (who: string) => `<script>alert("${who}")</script><b>bold</b>`)
  const parent = app.task('parent', async (n: number) => {
    const kids = await add.parallelize(Array.from({ length: n }, (_, i) => [i, 1] as [number, number]))
    return (await kids.results()).reduce((a, b) => a + b, 0)
  })
  const slow = app.task('slow', async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms))
    return ms
  })
  const onPaid = app.task('onPaid', async (orderId: string) => orderId, {
    triggers: [
      onEvent<{ orderId: string; currency: string }, [string]>('order.paid', {
        filter: { currency: 'EUR' },
        args: (e) => [e.payload.orderId],
      }),
    ],
  })
  const leapDay = app.task('leapDay', async () => null, { triggers: [onCron('0 0 29 2 *')] })
  return { app, add, boom, markup, parent, slow, onPaid, leapDay }
}

export type MonitorFixture = ReturnType<typeof monitorApp>

/** Runs one of each kind and waits for them: returns their ids. */
export async function runSample(f: MonitorFixture) {
  const sum = await f.add(2, 3)
  const failed = await f.boom('user-42')
  const html = await f.markup('mallory')
  const parent = await f.parent(3)
  await sum.result()
  await failed.result().catch(() => undefined)
  await html.result()
  await parent.result()
  return { sum: sum.id, failed: failed.id, html: html.id, parent: parent.id }
}
