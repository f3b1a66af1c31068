import { createHash } from 'node:crypto'
import type { InvocationState } from '../interfaces/orchestrator.js'
import type { NencRuntime } from '../runtime.js'

/**
 * Where a running invocation is in its own execution: the position of its next call. A parent
 * that runs again (rerouted on stop, recovered after its runner died, retried) makes the same
 * calls in the same order, so (parent id, position, call id) names the same child each time —
 * the child it already created can be reused instead of routing a new one, and the child's side
 * effects happen once. The one replay mechanism: workflows' `wf.execute` extends it.
 */
export class ReplayCursor {
  private position = 0

  constructor(
    /** The parent's id. */
    readonly parentId: string,
    /** The parent's run attempt (1 on its first claim): 1 means nothing can exist to reuse. */
    readonly attempt: number,
    /** Retries the parent used before this run. */
    readonly retries: number,
  ) {}

  /** Positions for the next `n` calls, taken synchronously at call time (so in call order). */
  take(n: number): number[] {
    const first = this.position
    this.position += n
    return Array.from({ length: n }, (_, i) => first + i)
  }

  /** True when an earlier run of this parent may have created children. */
  get isReplay(): boolean {
    return this.attempt > 1
  }
}

/**
 * The id of the child at `position` with `callId` made by `parentId` in its run after `retries`
 * retries. Deterministic and shaped like a UUID (version 8, RFC 9562) so every backend stores it
 * as it stores generated ids; it starts with the parent's UUIDv7 time prefix, so a parent's
 * children stay near it in time-ordered indexes.
 */
export function childInvocationId(
  parentId: string,
  retries: number,
  position: number,
  callId: string,
): string {
  const h = createHash('sha256')
    .update(`${parentId}\u0000${retries}\u0000${position}\u0000${callId}`)
    .digest('hex')
  const hex = parentId.replaceAll('-', '')
  const time = /^[0-9a-f]{32}$/.test(hex) ? hex.slice(0, 12) : h.slice(20, 32)
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-8${h.slice(0, 3)}-${variant}${h.slice(3, 6)}-${h.slice(6, 18)}`
}

/** What the router does with one call of a parent that runs again. */
export type ReplayChoice = { reuse: string } | { fresh: string }

/**
 * For each call of a parent: the id its child has in this run and, when the parent runs again,
 * whether an earlier run's child is reused. Rules (issue 9, D3):
 * - after a kill, a stop or a recovery (same retries): the child of this run's position is
 *   reused whatever its status — it may still be running, or have failed, exactly as the first
 *   run would have seen it;
 * - after a RETRY (more retries): a child an earlier run created is reused only if it succeeded;
 *   one that failed (or is not final) is never reused: the retry routes a new one.
 * One `getStates` round trip, and only when the parent is not on its first run.
 */
export async function chooseChildIds(
  rt: NencRuntime,
  cursor: ReplayCursor,
  calls: readonly { position: number; callId: string }[],
): Promise<ReplayChoice[]> {
  const own = calls.map((c) => childInvocationId(cursor.parentId, cursor.retries, c.position, c.callId))
  if (!cursor.isReplay) return own.map((fresh) => ({ fresh }))
  // This run's ids first, then each earlier retry generation's, newest first.
  const generations = Array.from({ length: cursor.retries + 1 }, (_, i) => cursor.retries - i)
  const candidates = calls.flatMap((c) =>
    generations.map((g) => childInvocationId(cursor.parentId, g, c.position, c.callId)),
  )
  const states = await rt.backend.orchestrator.getStates(candidates)
  const byId = new Map<string, InvocationState>()
  for (const s of states) if (s) byId.set(s.id, s)
  return calls.map((_, i) => {
    const ids = candidates.slice(i * generations.length, (i + 1) * generations.length)
    if (byId.has(ids[0]!)) return { reuse: ids[0]! }
    const succeeded = ids.slice(1).find((id) => byId.get(id)?.status === 'success')
    return succeeded ? { reuse: succeeded } : { fresh: own[i]! }
  })
}
