import { Nenc, workflow } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryBackend } from '../src/index.js'

/**
 * What only one process shows: an event emitted in the waiter's own process wakes the wait at
 * once (the poll is set to a minute, past the test's timeout), and dev mode waits inline as
 * `wf.sleep` does there.
 */
const apps: Nenc[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) {
    await app.runner.stop()
    await app.close()
  }
})

function newApp(options: { devMode?: boolean; runner?: ThreadRunner } = {}): Nenc {
  const app = new Nenc({
    appId: `wfe-${apps.length}`,
    backend: memoryBackend(),
    runner: options.runner,
    devMode: options.devMode ? { syncTasks: true } : undefined,
    config: { workflow: { eventPollMs: 60_000 } },
    env: {},
  })
  apps.push(app)
  return app
}

async function untilTrue(check: () => boolean): Promise<void> {
  const until = Date.now() + 5000
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting for the condition')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('wf.waitForEvent in one process', () => {
  it('app.emitEvent in the same process wakes a waiting workflow without waiting for the next poll', async () => {
    const app = newApp({ runner: new ThreadRunner({ maxThreads: 2 }) })
    let waiting = false
    const root = app.task('root', async () => {
      const wf = workflow()
      await wf.now() // recorded before the wait: the wait's start is later
      waiting = true
      return (await wf.waitForEvent<{ to: string }>('greet', { timeoutMs: 60_000 }))?.payload.to
    })
    await app.runner.start()
    const inv = await root()
    await untilTrue(() => waiting)
    // Its first look (at the wait's start) is done before the next timer turn.
    await new Promise((r) => setTimeout(r, 50))
    await app.emitEvent('greet', { to: 'ada' })
    expect(await inv.result()).toBe('ada')
  })

  it('dev mode (syncTasks) waits inline: the event emitted meanwhile is returned, a timeout gives null', async () => {
    const app = newApp({ devMode: true })
    const wait = app.task('wait', async (timeoutMs: number) =>
      workflow().waitForEvent<number>('n', { filter: (n: number) => n > 1, timeoutMs }),
    )
    const running = wait(10_000).then((inv) => inv.result())
    await new Promise((r) => setTimeout(r, 50))
    await app.emitEvent('n', 1)
    const id = await app.emitEvent('n', 2)
    expect(await running).toMatchObject({ id, code: 'n', payload: 2 })
    expect(await (await wait(30)).result()).toBeNull()
  })
})
