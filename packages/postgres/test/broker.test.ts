import { describe, expect, it } from 'vitest'
import { postgresBackend } from '../src/index.js'
import { initAll, PG_URL, sleep, until, usePostgres } from './helpers.js'

describe('broker', () => {
  const pgt = usePostgres()

  /** A second backend on the same schema and app, with its own pool and LISTEN connection. */
  async function otherProcess(appId = 'app') {
    const b = postgresBackend({ connectionString: PG_URL, schema: pgt.currentSchema() })
    pgt.track(b)
    return initAll(b, appId)
  }

  it('a delayed id is not retrievable, nor counted, before it is due; then it joins the back of the queue', async () => {
    const b = await pgt.backend()
    await b.broker.route(['late'], { delayMs: 250 })
    await b.broker.route(['first'])
    expect(await b.broker.count()).toBe(1)
    expect(await b.broker.retrieve(10)).toEqual(['first'])
    expect(await b.broker.retrieve(10)).toEqual([])
    await sleep(300)
    await b.broker.route(['after'])
    expect(await b.broker.count()).toBe(2)
    // due before 'after' was routed, so it comes first
    expect(await b.broker.retrieve(10)).toEqual(['late', 'after'])
  })

  it('a delay is durable: another process retrieves the id once it is due', async () => {
    const a = await pgt.backend()
    const other = await otherProcess()
    await a.broker.route(['d1'], { delayMs: 150 })
    await a.broker.close()
    await until(async () => (await other.broker.retrieve(5)).includes('d1'), 3000)
  })

  it('a route in another process wakes a subscriber through NOTIFY', async () => {
    const b = await pgt.backend()
    const other = await otherProcess()
    let calls = 0
    const unsubscribe = await b.broker.subscribe(() => calls++)
    await other.broker.route(['x'])
    await until(() => calls > 0, 2000)
    await unsubscribe()
  })

  it('a delayed route in another process wakes a subscriber when it is due, not before', async () => {
    const b = await pgt.backend('app', { pollIntervalMs: 60_000 }) // the NOTIFY alone must do it
    const other = await otherProcess()
    let calls = 0
    await b.broker.subscribe(() => calls++)
    await sleep(50)
    const before = calls
    const t0 = Date.now()
    await other.broker.route(['soon'], { delayMs: 300 })
    await until(() => calls > before, 3000)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280)
    expect(await b.broker.retrieve(5)).toEqual(['soon'])
  })

  it('the safety poll wakes a subscriber for due ids even without any NOTIFY', async () => {
    const b = await pgt.backend('app', { pollIntervalMs: 100 })
    let calls = 0
    await b.broker.subscribe(() => calls++)
    await sleep(150)
    const before = calls
    // written behind nenc's back: no NOTIFY at all
    const { admin } = await import('./helpers.js')
    await admin().query(
      `INSERT INTO "${pgt.currentSchema()}".queue (app_id, available_at, id) VALUES ('app', 0, 'sneaky')`,
    )
    await until(() => calls > before, 2000)
  })

  it('concurrent retrievers in two processes never get the same entry', async () => {
    const b = await pgt.backend()
    const other = await otherProcess()
    const ids = Array.from({ length: 400 }, (_, i) => `q-${i}`)
    await b.broker.route(ids)
    const got = (
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : other).broker.retrieve(17)))
    ).flat()
    const rest = await b.broker.retrieve(1000)
    expect(new Set([...got, ...rest]).size).toBe(400)
    expect(got.length + rest.length).toBe(400)
  })
})
