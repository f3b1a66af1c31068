import { describe, expect, it } from 'vitest'
import { admin, requests, usePostgres } from './helpers.js'

describe('purgeFinishedBefore: the explicit bulk delete of finished invocations', () => {
  const pgt = usePostgres()

  async function finished(b: Awaited<ReturnType<ReturnType<typeof usePostgres>['backend']>>, n: number) {
    const reqs = requests(n)
    const ids = reqs.map((r) => r.id)
    await b.stateBackend.upsertInvocations(
      reqs.map((r) => ({
        id: r.id,
        taskId: r.taskId,
        taskName: 't',
        callId: r.callId,
        args: '[]',
        parentId: null,
        workflow: { id: r.id, type: r.taskId, parentWorkflowId: null },
        createdAt: Date.now(),
      })),
    )
    await b.orchestrator.register(reqs)
    await b.orchestrator.claim(ids, 'w')
    await b.orchestrator.transition(ids.map((id) => ({ id, to: 'running', actor: 'w' })))
    await b.stateBackend.setOutcomes(
      ids.map((id) => ({ id, attempt: 1, outcome: { kind: 'result', value: '1' } })),
    )
    await b.orchestrator.transition(ids.map((id) => ({ id, to: 'success', actor: 'w' })))
    return ids
  }

  const rows = async (table: string, app: string) =>
    (
      await admin().query(
        `SELECT count(*)::int AS n FROM "${pgt.currentSchema()}".${table} WHERE app_id = $1`,
        [app],
      )
    ).rows[0].n as number

  it('purgeFinishedBefore() deletes old finished invocations with all their rows, and nothing else', async () => {
    const b = await pgt.backend('app')
    const other = await pgt.backend('other')
    const old = await finished(b, 30)
    await finished(other, 5)
    const fresh = await finished(b, 4)
    // an hour ago, for app and other alike
    await admin().query(
      `UPDATE "${pgt.currentSchema()}".invocations SET status_ts = status_ts - 3600000
       WHERE id = ANY($1) OR app_id = 'other'`,
      [old],
    )
    const [live] = requests(1)
    await b.orchestrator.register([live!])
    await b.orchestrator.addWaiting(live!.id, [old[0]!]) // ignored: old[0] is final

    expect(await b.orchestrator.purgeFinishedBefore(60_000, 7)).toBe(30) // several batches of 7
    expect(await b.orchestrator.getStates(old)).toEqual(old.map(() => null))
    expect(await b.stateBackend.getInvocations(old)).toEqual(old.map(() => null))
    expect(await b.stateBackend.getOutcomes(old.map((id) => ({ id, attempt: 1 })))).toEqual(
      old.map(() => null),
    )
    expect(await b.orchestrator.getHistory(old[0]!)).toEqual([])
    expect((await b.orchestrator.getStates([...fresh, live!.id])).every((s) => s !== null)).toBe(true)
    // the kept invocations keep their whole history (in their rows)
    for (const id of fresh) expect(await b.orchestrator.getHistory(id)).toHaveLength(4)
    expect(await b.orchestrator.getHistory(live!.id)).toHaveLength(1)
    expect(await rows('invocations', 'other')).toBe(5)
    expect(await b.orchestrator.purgeFinishedBefore(60_000)).toBe(0)
  })
})
