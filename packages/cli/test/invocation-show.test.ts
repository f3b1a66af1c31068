import { Nenc } from '@nenc/core'
import { memoryBackend } from '@nenc/memory'
import { afterEach, describe, expect, it } from 'vitest'
import { readInvocation } from '../src/commands/invocation-show.js'

/** `nenc invocation show` reads arguments the way a runner does, large ones included. */
describe('readInvocation', () => {
  const apps: Nenc[] = []
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close()
  })

  it('shows the call arguments, including a large one kept in the client data store', async () => {
    const app = new Nenc({
      appId: `show-${Date.now().toString(36)}`,
      backend: memoryBackend(),
      config: { clientDataStore: { minSizeToCache: 64 } },
      env: {},
    })
    apps.push(app)
    const echo = app.task('echo', async (a: number, big: string, o: Record<string, unknown>) => [a, big, o])
    const big = 'x'.repeat(200)
    const marker = { $nenc: 'ref', k: 'x' }
    const inv = await echo(1, big, marker)
    const report = await readInvocation(app, inv.id)
    expect(report.args).toEqual({
      args: [
        { chars: 1, inClientDataStore: false, value: 1 },
        { chars: 202, inClientDataStore: true, value: big },
        { chars: JSON.stringify(marker).length, inClientDataStore: false, value: marker },
      ],
    })
  })
})
