import { newRequests } from '@nenc/conformance'
import type { InvocationPage } from '@nenc/core'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisBackend } from '../src/index.js'
import { PAGE_SCAN_BUDGET } from '../src/redis-listing.js'
import { destroyBackend, freshAppId, initBackend } from './helpers.js'

async function follow(list: (cursor: string | null) => Promise<InvocationPage>, start: string | null = null) {
  const ids: string[] = []
  const sizes: number[] = []
  let cursor = start
  do {
    const page = await list(cursor)
    ids.push(...page.ids)
    sizes.push(page.ids.length)
    cursor = page.next
  } while (cursor)
  return { ids, sizes }
}

describe('page-invocations.lua and count-invocations.lua', () => {
  let b: RedisBackend
  afterEach(async () => destroyBackend(b))

  it('pages through one batch registered in the same millisecond (ties by id), by rank', async () => {
    b = await initBackend(freshAppId('ties'))
    const o = b.orchestrator
    await o.register(newRequests(1200))
    const all = await o.listInvocations({ limit: 2000 })
    const { ids } = await follow((cursor) => o.pageInvocations({ limit: 7, cursor }))
    expect(ids).toEqual(all)
    const counts = await o.countInvocations({})
    expect(counts).toEqual([{ taskId: 'conformance.task', status: 'registered', count: 1200 }])
  })

  it('continues after a cursor whose id left the live zset (turned final) by score', async () => {
    b = await initBackend(freshAppId('gone'))
    const o = b.orchestrator
    for (let i = 0; i < 5; i++) {
      await o.register(newRequests(1))
      await new Promise((r) => setTimeout(r, 3))
    }
    const all = await o.listInvocations({ limit: 10 })
    const live = { statuses: ['registered', 'pending'] as const, limit: 2 }
    const first = await o.pageInvocations(live)
    expect(first.ids).toEqual(all.slice(0, 2))
    const gone = all[1]!
    await o.claim([gone], 'r')
    for (const to of ['running', 'success'] as const) {
      expect((await o.transition([{ id: gone, to, actor: 'r' }]))[0]!.ok).toBe(true)
    }
    const rest = await follow((cursor) => o.pageInvocations({ ...live, cursor }), first.next)
    expect(rest.ids).toEqual(all.slice(2))
  })

  it('bounds the scan of one call: a sparse status filter returns short pages with a cursor', async () => {
    b = await initBackend(freshAppId('budget'))
    const o = b.orchestrator
    const reqs = newRequests(PAGE_SCAN_BUDGET + 500)
    await o.register(reqs)
    const all = await o.listInvocations({ limit: 100_000 })
    const oldest = all[all.length - 1]!
    await o.claim([oldest], 'r')
    const { ids, sizes } = await follow((cursor) => o.pageInvocations({ statuses: ['pending'], cursor }))
    expect(ids).toEqual([oldest])
    expect(sizes).toEqual([0, 1])
    const counts = await o.countInvocations({})
    expect(counts.map((c) => [c.status, c.count]).sort()).toEqual([
      ['pending', 1],
      ['registered', PAGE_SCAN_BUDGET + 499],
    ])
  })
})
