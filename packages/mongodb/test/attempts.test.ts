import { randomUUID } from 'node:crypto'
import type { RegisterRequest } from '@nenc/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type MongoBackend, mongoBackend } from '../src/index.js'

// Attempts and fencing against a real MongoDB named by NENC_MONGO_URL. This machine has no
// MongoDB server, so without the variable the suite is skipped and says so once.
const url = process.env.NENC_MONGO_URL
if (!url) {
  console.log(
    '[@nenc/mongodb] attempts suite skipped: NENC_MONGO_URL is not set (no MongoDB server on this machine); ' +
      'run NENC_MONGO_URL=mongodb://127.0.0.1:27017 pnpm --filter @nenc/mongodb test',
  )
}

const request = (id: string): RegisterRequest => ({
  id,
  taskId: 'app.t',
  callId: `app.t:${id}`,
  actor: 'client',
  registrationKey: null,
  runningKey: null,
  rerouteOnConcurrencyControl: false,
})

describe.runIf(url)('mongodb attempts (NENC_MONGO_URL)', () => {
  let backend: MongoBackend
  beforeEach(async () => {
    backend = mongoBackend({ url: url!, database: process.env.NENC_MONGO_DB ?? 'nenc_test' })
    const appId = `attempts-${randomUUID().slice(0, 8)}`
    await backend.orchestrator.init({ appId })
    await backend.stateBackend.init({ appId })
  })
  afterEach(async () => {
    const parts = [backend.orchestrator, backend.stateBackend]
    try {
      await Promise.all(parts.map((c) => c.drop()))
    } finally {
      for (const c of parts) await c.close()
    }
  })

  it('claims start attempts; a fenced write naming an old attempt is stale and writes nothing', async () => {
    const o = backend.orchestrator
    await o.register([request('a')])
    expect((await o.getStates(['a']))[0]).toMatchObject({ status: 'registered', attempt: 0 })
    const [claimed] = await o.claim(['a'], 'r1')
    expect(claimed).toMatchObject({ outcome: 'claimed', state: { attempt: 1 } })
    await o.transition([{ id: 'a', to: 'pending_recovery', actor: 'recovery' }])
    await o.transition([{ id: 'a', to: 'rerouted', actor: 'recovery' }])
    const [again] = await o.claim(['a'], 'r1')
    expect(again).toMatchObject({ outcome: 'claimed', state: { owner: 'r1', attempt: 2 } })
    const before = await o.getHistory('a')

    const [stale] = await o.transition([{ id: 'a', to: 'running', actor: 'r1', attempt: 1 }])
    expect(stale).toMatchObject({
      ok: false,
      reason: 'stale',
      attempt: 1,
      current: { status: 'pending', attempt: 2 },
    })
    expect(await o.getHistory('a')).toEqual(before)
    expect(before.map((h) => h.attempt)).toEqual([0, 1, 1, 1, 2])

    const [ok] = await o.transition([{ id: 'a', to: 'running', actor: 'r1', attempt: 2 }])
    expect(ok).toMatchObject({ ok: true, state: { status: 'running', attempt: 2 } })
  })

  it('outcomes are write-once per (id, attempt) and read by attempt', async () => {
    const s = backend.stateBackend
    const r = (value: string) => ({ kind: 'result' as const, value })
    await s.setOutcomes([
      { id: 'a', attempt: 1, outcome: r('first') },
      { id: 'a', attempt: 1, outcome: r('same batch') },
    ])
    await s.setOutcomes([
      { id: 'a', attempt: 1, outcome: r('later') },
      { id: 'a', attempt: 2, outcome: r('second attempt') },
    ])
    expect(
      await s.getOutcomes([
        { id: 'a', attempt: 2 },
        { id: 'a', attempt: 1 },
        { id: 'a', attempt: 3 },
        { id: 'b', attempt: 1 },
      ]),
    ).toEqual([r('second attempt'), r('first'), null, null])
    await s.purge()
    expect(await s.getOutcomes([{ id: 'a', attempt: 1 }])).toEqual([null])
  })
})
