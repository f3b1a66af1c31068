import {
  InvalidQueryError,
  type InvocationPage,
  type InvocationPageQuery,
  type InvocationRecord,
  newInvocationId,
  type Orchestrator,
  type RecordPageQuery,
  type StateBackend,
} from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, newRequests, useBackend } from '../harness.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Follows `next` to the end; fails on a repeated id or a runaway listing. */
async function allPages(
  list: (cursor: string | null) => Promise<InvocationPage>,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page = await list(cursor)
    ids.push(...page.ids)
    cursor = page.next
    pages++
    if (pages > 1000) throw new Error('listing did not end')
  } while (cursor)
  expect(new Set(ids).size).toBe(ids.length)
  return { ids, pages }
}

const pageAll = (o: Orchestrator, q: InvocationPageQuery) =>
  allPages((cursor) => o.pageInvocations({ ...q, cursor }))
const recordsAll = (s: StateBackend, q: RecordPageQuery) =>
  allPages((cursor) => s.listInvocationRecords({ ...q, cursor }))

const record = (over: Partial<InvocationRecord> & { createdAt: number }): InvocationRecord => {
  const id = over.id ?? newInvocationId()
  return {
    id,
    taskId: 'app.t',
    taskName: 't',
    callId: `app.t:${id}`,
    args: '[]',
    parentId: null,
    workflow: { id, type: 'app.t', parentWorkflowId: null },
    ...over,
  }
}

/**
 * Listing for monitors: keyset pages by task, status and creation time, counts per task and
 * status, a workflow's invocations and a parent's children.
 */
export function describeListing(name: string, factory: BackendFactory): void {
  describe(`${name}: listing and counting invocations`, () => {
    const { components } = useBackend(factory)

    it('pages through every invocation newest first, in the order of listInvocations', async () => {
      const { backend } = await components()
      const o = backend.orchestrator
      for (let i = 0; i < 3; i++) {
        await o.register(newRequests(3, { taskId: i % 2 ? 'list.a' : 'list.b' }))
        await sleep(3)
      }
      const expected = await o.listInvocations({ limit: 100 })
      expect(expected).toHaveLength(9)
      const { ids, pages } = await pageAll(o, { limit: 2 })
      expect(ids).toEqual(expected)
      expect(pages).toBe(5)
      // One page holding everything ends the listing.
      expect(await o.pageInvocations({ limit: 9 })).toEqual({ ids: expected, next: null })
    })

    it('filters by task, statuses and creation time, together', async () => {
      const { backend } = await components()
      const o = backend.orchestrator
      const early = [...newRequests(2, { taskId: 'list.a' }), ...newRequests(2, { taskId: 'list.b' })]
      await o.register(early)
      await sleep(30)
      const t1 = Date.now()
      await sleep(30)
      const late = [...newRequests(3, { taskId: 'list.a' }), ...newRequests(1, { taskId: 'list.b' })]
      await o.register(late)
      await sleep(30)
      const t2 = Date.now()
      const claimed = [early[0]!.id, late[0]!.id, late[3]!.id]
      expect((await o.claim(claimed, 'listing-runner')).map((c) => c.outcome)).toEqual([
        'claimed',
        'claimed',
        'claimed',
      ])
      const ids = async (q: InvocationPageQuery) => (await pageAll(o, { ...q, limit: 2 })).ids.sort()
      const idsOf = (rs: { id: string }[]) => rs.map((r) => r.id).sort()

      expect(await ids({ taskId: 'list.a' })).toEqual(idsOf([...early.slice(0, 2), ...late.slice(0, 3)]))
      expect(await ids({ statuses: ['pending'] })).toEqual([...claimed].sort())
      expect(await ids({ statuses: ['registered', 'pending'] })).toHaveLength(8)
      expect(await ids({ statuses: [] })).toEqual([])
      expect(await ids({ createdFrom: t1 })).toEqual(idsOf(late))
      expect(await ids({ createdBefore: t1 })).toEqual(idsOf(early))
      expect(await ids({ createdFrom: t2 })).toEqual([])
      expect(await ids({ taskId: 'list.a', statuses: ['registered'], createdFrom: t1 })).toEqual(
        idsOf(late.slice(1, 3)),
      )
      expect(await ids({ taskId: 'list.none' })).toEqual([])
    })

    it('a cursor stays valid while invocations are created: no page repeats or skips one', async () => {
      const { backend } = await components()
      const o = backend.orchestrator
      await o.register(newRequests(5))
      const first = await o.pageInvocations({ limit: 2 })
      expect(first.ids).toHaveLength(2)
      expect(first.next).not.toBeNull()
      await sleep(3)
      await o.register(newRequests(4)) // newer: ahead of the cursor
      const rest = await allPages((cursor) => o.pageInvocations({ limit: 2, cursor: cursor ?? first.next }))
      const all = await o.listInvocations({ limit: 100 })
      expect([...first.ids, ...rest.ids]).toEqual(all.slice(4))
    })

    it('counts invocations per task and current status, by creation time', async () => {
      const { backend } = await components()
      const o = backend.orchestrator
      const a = newRequests(3, { taskId: 'count.a' })
      await o.register([...a, ...newRequests(2, { taskId: 'count.b' })])
      await sleep(30)
      const t1 = Date.now()
      await sleep(30)
      await o.register(newRequests(1, { taskId: 'count.b' }))
      await o.claim([a[0]!.id], 'count-runner')
      const sorted = (cs: { taskId: string; status: string; count: number }[]) =>
        [...cs].sort((x, y) => `${x.taskId}${x.status}`.localeCompare(`${y.taskId}${y.status}`))
      expect(sorted(await o.countInvocations({}))).toEqual([
        { taskId: 'count.a', status: 'pending', count: 1 },
        { taskId: 'count.a', status: 'registered', count: 2 },
        { taskId: 'count.b', status: 'registered', count: 3 },
      ])
      expect(await o.countInvocations({ taskId: 'count.a', createdFrom: t1 })).toEqual([])
      expect(await o.countInvocations({ createdFrom: t1 })).toEqual([
        { taskId: 'count.b', status: 'registered', count: 1 },
      ])
      expect(sorted(await o.countInvocations({ createdBefore: t1, taskId: 'count.b' }))).toEqual([
        { taskId: 'count.b', status: 'registered', count: 2 },
      ])
    })

    it('lists a workflow (root included, not sub-workflows) and a parent children, in pages', async () => {
      const { backend } = await components()
      const s = backend.stateBackend
      const t = 1_700_000_000_000
      const root = record({ createdAt: t })
      const wf = root.workflow
      const kids = [1, 2, 3].map((i) => record({ createdAt: t + i, parentId: root.id, workflow: wf }))
      // Two children created in the same millisecond: ordered by id.
      const twins = [0, 1].map(() => record({ createdAt: t + 5, parentId: kids[0]!.id, workflow: wf }))
      const subId = newInvocationId()
      const sub = record({
        id: subId,
        createdAt: t + 6,
        parentId: root.id,
        workflow: { id: subId, type: 'app.t', parentWorkflowId: wf.id },
      })
      const inSub = record({ createdAt: t + 7, parentId: subId, workflow: sub.workflow })
      const other = record({ createdAt: t + 8 })
      await s.upsertInvocations([root, ...kids, ...twins, sub, inSub, other])

      const newest = (rs: InvocationRecord[]) =>
        [...rs].sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : -1)).map((r) => r.id)
      const wfPages = await recordsAll(s, { workflowId: wf.id, limit: 2 })
      expect(wfPages.ids).toEqual(newest([root, ...kids, ...twins]))
      expect(wfPages.pages).toBe(3)
      expect((await recordsAll(s, { workflowId: subId, limit: 1 })).ids).toEqual(newest([sub, inSub]))
      expect((await recordsAll(s, { parentId: root.id, limit: 3 })).ids).toEqual(newest([...kids, sub]))
      expect((await recordsAll(s, { parentId: kids[0]!.id })).ids).toEqual(newest(twins))
      expect(await s.listInvocationRecords({ parentId: other.id })).toEqual({ ids: [], next: null })
      expect(await s.listInvocationRecords({ workflowId: 'missing' })).toEqual({ ids: [], next: null })
    })

    it('rejects a bad limit, cursor or query with InvalidQueryError naming the field', async () => {
      const { backend } = await components()
      const o = backend.orchestrator
      const s = backend.stateBackend
      const field = async (p: Promise<unknown>) => {
        const err = await p.then(
          () => null,
          (e: unknown) => e,
        )
        expect(err).toBeInstanceOf(InvalidQueryError)
        return (err as InvalidQueryError).field
      }
      expect(await field(o.pageInvocations({ limit: 0 }))).toBe('limit')
      expect(await field(o.pageInvocations({ limit: 1001 }))).toBe('limit')
      expect(await field(o.pageInvocations({ cursor: 'not a cursor' }))).toBe('cursor')
      expect(await field(o.pageInvocations({ createdFrom: Number.NaN }))).toBe('createdFrom')
      expect(await field(o.countInvocations({ createdBefore: Number.POSITIVE_INFINITY }))).toBe(
        'createdBefore',
      )
      expect(await field(s.listInvocationRecords({ parentId: 'p', cursor: '.x' }))).toBe('cursor')
      expect(await field(s.listInvocationRecords({} as RecordPageQuery))).toBe('workflowId/parentId')
    })
  })
}

/** Removing finished invocations (the monitor's purge): final ones only, every trace of them. */
export function describeDeletion(name: string, factory: BackendFactory): void {
  describe(`${name}: deleting finished invocations`, () => {
    const { components } = useBackend(factory)

    it('the orchestrator removes final invocations only: state, history, listings, counts', async () => {
      const { backend } = await components()
      const o = backend.orchestrator
      const reqs = newRequests(4, { taskId: 'del.t' })
      await o.register(reqs)
      const [done, failed, running, waiting] = reqs.map((r) => r.id) as [string, string, string, string]
      await o.claim([done, failed, running], 'del-runner')
      for (const [id, to] of [
        [done, 'running'],
        [done, 'success'],
        [failed, 'running'],
        [failed, 'failed'],
        [running, 'running'],
      ] as const) {
        expect((await o.transition([{ id, to, actor: 'del-runner' }]))[0]!.ok).toBe(true)
      }
      const removed = await o.deleteFinalInvocations([done, failed, running, waiting, 'unknown', done])
      expect([...removed].sort()).toEqual([done, failed].sort())
      expect((await o.getStates([done, failed, running, waiting])).map((s) => s?.status ?? null)).toEqual([
        null,
        null,
        'running',
        'registered',
      ])
      expect(await o.getHistory(done)).toEqual([])
      expect((await o.listInvocations({ limit: 10 })).sort()).toEqual([running, waiting].sort())
      expect((await pageAll(o, { taskId: 'del.t' })).ids.sort()).toEqual([running, waiting].sort())
      expect(await o.countInvocations({ taskId: 'del.t' })).toHaveLength(2)
      expect(await o.deleteFinalInvocations([done])).toEqual([])
    })

    it('the state backend removes records, every outcome, progress, and the id from its parent children', async () => {
      const { backend } = await components()
      const s = backend.stateBackend
      const t = 1_700_000_000_000
      const parent = record({ createdAt: t })
      const [gone, kept] = [1, 2].map((i) =>
        record({ createdAt: t + i, parentId: parent.id, workflow: parent.workflow }),
      ) as [InvocationRecord, InvocationRecord]
      await s.upsertInvocations([parent, gone, kept])
      await s.setOutcomes([
        { id: gone.id, attempt: 1, outcome: { kind: 'error', value: '{"name":"E","message":"m"}' } },
        { id: gone.id, attempt: 2, outcome: { kind: 'result', value: '1' } },
        { id: kept.id, attempt: 1, outcome: { kind: 'result', value: '2' } },
      ])
      await s.setProgress([
        { id: gone.id, attempt: 2, value: '0.5', updatedAt: t },
        { id: kept.id, attempt: 1, value: '0.7', updatedAt: t },
      ])
      await s.deleteInvocations([gone.id, 'unknown'])
      expect(await s.getInvocations([gone.id, kept.id])).toEqual([null, kept])
      expect(await s.getProgress([gone.id, kept.id])).toEqual([
        null,
        { id: kept.id, attempt: 1, value: '0.7', updatedAt: t },
      ])
      expect(
        await s.getOutcomes([
          { id: gone.id, attempt: 1 },
          { id: gone.id, attempt: 2 },
          { id: kept.id, attempt: 1 },
        ]),
      ).toEqual([null, null, { kind: 'result', value: '2' }])
      expect(await s.getChildInvocations(parent.id)).toEqual([kept.id])
      expect((await recordsAll(s, { parentId: parent.id })).ids).toEqual([kept.id])
      expect((await recordsAll(s, { workflowId: parent.id })).ids).toEqual([kept.id, parent.id])
      await s.deleteInvocations([gone.id]) // idempotent
    })
  })
}
