import { describe, expect, it } from 'vitest'
import { type InvocationContext, invocationStorage } from '../src/context.js'
import { type Backend, type InvocationRecord, Nenc, type RegisterRequest } from '../src/index.js'
import { childInvocationId, ReplayCursor } from '../src/orchestration/replay.js'

/** An app over a stub backend that records what the route step stores and which states are read. */
function app(known: Record<string, string> = {}) {
  const routed: { records: InvocationRecord[]; requests: RegisterRequest[] }[] = []
  const reads: string[][] = []
  const broker = { init: async () => {}, close: async () => {} }
  const orchestrator = {
    init: async () => {},
    close: async () => {},
    getStates: async (ids: string[]) => {
      reads.push(ids)
      return ids.map((id) => (known[id] ? { id, status: known[id] } : null))
    },
  }
  const stateBackend = { init: async () => {}, close: async () => {} }
  const steps = {
    builtOver: { broker, orchestrator, stateBackend },
    route: async (records: InvocationRecord[], requests: RegisterRequest[]) => {
      routed.push({ records, requests })
      return requests.map((r) => ({ id: r.id, reused: false }))
    },
  }
  const other = { init: async () => {}, close: async () => {} }
  const backend = {
    broker,
    orchestrator,
    stateBackend,
    clientDataStore: other,
    triggerStore: other,
    steps,
  } as unknown as Backend
  const nenc = new Nenc({ appId: 'app', backend, env: {} })
  const child = nenc.task('child', async (x: number) => x)
  return { nenc, child, routed, reads }
}

/** Runs `fn` as the task `parent` would, on its claim attempt `attempt` after `retries` retries. */
function inParent<T>(
  nenc: Nenc,
  parentId: string,
  attempt: number,
  retries: number,
  fn: () => Promise<T>,
): Promise<T> {
  const ctx = {
    invocationId: parentId,
    taskName: 'parent',
    runnerId: 'r1',
    progress: () => {},
    workflow: { id: parentId, type: 'app.parent', parentWorkflowId: null },
    attempt: retries,
    signal: new AbortController().signal,
    logger: nenc.logger,
    hooks: { waitingStart() {}, waitingEnd() {} },
    appId: 'app',
    replay: new ReplayCursor(parentId, attempt, retries),
  } as InvocationContext
  return invocationStorage.run(ctx, fn)
}

describe('routeCalls inside a task', () => {
  it('gives children ids from the parent and their position, and reads nothing on a first run', async () => {
    const { nenc, child, routed, reads } = app()
    const parentId = '01a23800-0000-7000-8000-000000000001'
    const [a, b] = await inParent(nenc, parentId, 1, 0, () => Promise.all([child(1), child(1)]))
    expect(reads).toEqual([])
    expect(routed.flatMap((r) => r.requests.map((q) => q.id))).toEqual([a!.id, b!.id])
    expect(a!.id).not.toBe(b!.id) // same call, different positions
    expect(routed[0]!.records[0]).toMatchObject({ parentId, workflow: { id: parentId } })
  })

  it('on a re-run reuses the existing child: nothing stored, registered or queued for it', async () => {
    const parentId = '01a23800-0000-7000-8000-000000000002'
    const first = app()
    const [old] = await inParent(first.nenc, parentId, 1, 0, () => Promise.all([first.child(7)]))
    const again = app({ [old!.id]: 'running' })
    const [reused, fresh] = await inParent(again.nenc, parentId, 2, 0, () =>
      Promise.all([again.child(7), again.child(8)]),
    )
    expect(reused!.id).toBe(old!.id)
    expect(reused!.reused).toBe(true)
    expect(again.reads).toHaveLength(2) // one read per call on a re-run
    expect(again.routed.flatMap((r) => r.requests.map((q) => q.id))).toEqual([fresh!.id])
    expect(fresh!.id).toBe(childInvocationId(parentId, 0, 1, again.routed[0]!.requests[0]!.callId))
  })
})
