import type { Nenc } from '@nenc/core'

/** A parent or child named in `nenc invocation show`: enough to decide what to open next. */
export interface RelatedInvocation {
  id: string
  task: string | null
  status: string | null
}

/** Reads task and status of `ids` in two round trips; unknown ids keep null fields. */
export async function describeInvocations(app: Nenc, ids: readonly string[]): Promise<RelatedInvocation[]> {
  if (!ids.length) return []
  const [states, records] = await Promise.all([
    app.backend.orchestrator.getStates(ids),
    app.backend.stateBackend.getInvocations(ids),
  ])
  return ids.map((id, i) => ({ id, task: records[i]?.taskName ?? null, status: states[i]?.status ?? null }))
}

/** The children (up to `limit`, in the backend's order) and how many there are in all. */
export async function readChildren(
  app: Nenc,
  id: string,
  limit: number,
): Promise<{ children: RelatedInvocation[]; total: number }> {
  const ids = await app.backend.stateBackend.getChildInvocations(id)
  return { children: await describeInvocations(app, ids.slice(0, limit)), total: ids.length }
}
