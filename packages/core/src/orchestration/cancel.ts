import { currentContext } from '../context.js'
import { CancelRefusedError, InvocationNotFoundError } from '../errors.js'
import { CANCELABLE_STATUSES } from '../invocation/status.js'
import type { NencRuntime } from '../runtime.js'
import { wakeReleased } from './claim.js'

/**
 * `invocation.cancel()`: one transition to CANCELED, which the status table allows only from the
 * statuses an invocation holds before it runs. It names no attempt and overrides ownership, so a
 * PENDING claim can be canceled too: the claimer's start is fenced (PENDING → RUNNING) and is then
 * refused, so the task never runs. A queued copy of the id is dropped at claim (CANCELED is not
 * available for run); a running key the claim held is released and its next waiter woken.
 */
export async function cancelInvocation(rt: NencRuntime, id: string): Promise<void> {
  await rt.ready()
  const ctx = currentContext()
  const actor = ctx && ctx.appId === rt.appId ? ctx.runnerId : rt.runner.runnerId
  const [out] = await rt.backend.orchestrator.transition([{ id, to: 'canceled', actor }])
  if (!out || (!out.ok && out.reason === 'not_found')) throw new InvocationNotFoundError(id)
  if (out.ok) {
    await wakeReleased(rt, actor, [out])
    return
  }
  if (out.current.status === 'canceled') return // canceled already: the same end state
  throw new CancelRefusedError(id, out.current.status, CANCELABLE_STATUSES)
}
