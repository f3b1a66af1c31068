import { currentContext } from '../context.js'
import { ConcurrencyControlledError, InvocationNotFoundError, TaskError } from '../errors.js'
import type { NencRuntime } from '../runtime.js'
import { decodeError } from './errors-codec.js'
import { type ResultOptions, watchForRunners } from './result-waiter.js'

/**
 * Runs `wait` as the current invocation's wait when called inside a task of this app: the runner
 * stops counting it against its slots, blocking control learns whom it waits for, and the wait
 * aborts when the invocation is killed. Outside a task it waits, watching that some runner exists
 * ({@link watchForRunners}).
 */
export async function asInvocationWait<T>(
  rt: NencRuntime,
  waitedIds: readonly string[],
  wait: (signal?: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctx = currentContext()
  if (!ctx || ctx.appId !== rt.appId) {
    // A caller outside the app's tasks: warn once if no runner exists to ever end the wait.
    const stopWatch = watchForRunners(rt)
    try {
      return await wait()
    } finally {
      stopWatch()
    }
  }
  const pending = waitedIds.filter((id) => !rt.waiter.isKnownFinal(id))
  if (pending.length === 0) return wait(ctx.signal)
  ctx.hooks.waitingStart(ctx.invocationId)
  try {
    if (rt.config.value<boolean>('orchestrator.blockingControl')) {
      await rt.backend.orchestrator.addWaiting(ctx.invocationId, pending)
    }
    return await wait(ctx.signal)
  } finally {
    ctx.hooks.waitingEnd(ctx.invocationId)
  }
}

/** Waits until every id is final (see {@link asInvocationWait}). */
export const waitFinal = (rt: NencRuntime, ids: readonly string[], options?: ResultOptions): Promise<void> =>
  asInvocationWait(rt, ids, (signal) => rt.waiter.waitAll(ids, signal, options))

/**
 * Reads final outcomes in input order: settled values for results, `TaskError` for failures,
 * `ConcurrencyControlledError` for dropped invocations. One round trip, plus one only when an
 * outcome is missing.
 */
export async function readOutcomes(
  rt: NencRuntime,
  ids: readonly string[],
  taskNames: readonly string[],
): Promise<PromiseSettledResult<unknown>[]> {
  const outcomes = await rt.backend.stateBackend.getOutcomes(ids)
  const missing = ids.filter((_, i) => !outcomes[i])
  const states = missing.length ? await rt.backend.orchestrator.getStates(missing) : []
  const stateOf = new Map(missing.map((id, i) => [id, states[i]]))
  return ids.map((id, i): PromiseSettledResult<unknown> => {
    const o = outcomes[i]
    if (o?.kind === 'result') {
      try {
        return { status: 'fulfilled', value: rt.serializer.deserialize(o.value) }
      } catch (err) {
        return { status: 'rejected', reason: err }
      }
    }
    if (o?.kind === 'error')
      return { status: 'rejected', reason: new TaskError(id, taskNames[i]!, decodeError(o.value)) }
    const st = stateOf.get(id)
    if (st?.status === 'concurrency_controlled_final') {
      return { status: 'rejected', reason: new ConcurrencyControlledError(id, taskNames[i]!) }
    }
    return {
      status: 'rejected',
      reason: new InvocationNotFoundError(id, 'the state backend (no outcome stored)'),
    }
  })
}
