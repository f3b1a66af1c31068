import { currentContext } from '../context.js'
import {
  BackendUnavailableError,
  ConcurrencyControlledError,
  InvocationCanceledError,
  InvocationNotFoundError,
  TaskError,
} from '../errors.js'
import type { NencRuntime } from '../runtime.js'
import { stepsOf } from './composed-steps.js'
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
 * `ConcurrencyControlledError` for dropped invocations. Each outcome is the one of the final
 * state's attempt — the attempt whose fenced final transition won — so a late write by a runner
 * presumed dead is never read. One round trip with fused steps, two composed.
 */
export async function readOutcomes(
  rt: NencRuntime,
  ids: readonly string[],
  taskNames: readonly string[],
): Promise<PromiseSettledResult<unknown>[]> {
  // Outcomes that came with the final status need no read (the runner's own finish, or a
  // notification that carried them); the rest are read in one step.
  const known = ids.map((id) => rt.waiter.knownOutcome(id))
  const missing = ids.filter((_, i) => !known[i])
  const read = missing.length ? await rideOutOutage(rt, () => stepsOf(rt.backend).readFinal(missing)) : []
  const readById = new Map(missing.map((id, i) => [id, read[i]!]))
  return ids.map((id, i): PromiseSettledResult<unknown> => {
    const k = known[i]
    const { state, outcome: o } = k
      ? { state: null, outcome: k }
      : (readById.get(id) ?? { state: null, outcome: null })
    if (o?.kind === 'result') {
      try {
        return { status: 'fulfilled', value: rt.serializer.deserialize(o.value) }
      } catch (err) {
        return { status: 'rejected', reason: err }
      }
    }
    if (o?.kind === 'error')
      return { status: 'rejected', reason: new TaskError(id, taskNames[i]!, decodeError(o.value)) }
    if (state?.status === 'canceled')
      return { status: 'rejected', reason: new InvocationCanceledError(id, taskNames[i]!) }
    if (state?.status === 'concurrency_controlled_final') {
      return { status: 'rejected', reason: new ConcurrencyControlledError(id, taskNames[i]!) }
    }
    return {
      status: 'rejected',
      reason: new InvocationNotFoundError(
        id,
        state ? `the state backend (no outcome stored for attempt ${state.attempt})` : 'the orchestrator',
      ),
    }
  })
}

/**
 * Runs a read for a waiting caller, retrying while the backend is unavailable — every
 * `orchestrator.resultPollMs`, for up to `orchestrator.waitOutageMs` — so a server restart
 * between "final" and "read the outcome" does not fail a wait that already lasted.
 */
async function rideOutOutage<T>(rt: NencRuntime, read: () => Promise<T>): Promise<T> {
  const toleranceMs = rt.config.value<number>('orchestrator.waitOutageMs')
  const everyMs = rt.config.value<number>('orchestrator.resultPollMs')
  const since = Date.now()
  for (;;) {
    try {
      return await read()
    } catch (err) {
      if (!(err instanceof BackendUnavailableError) || Date.now() - since >= toleranceMs) throw err
      await new Promise((r) =>
        setTimeout(r, Math.min(everyMs, Math.max(0, since + toleranceMs - Date.now()))),
      )
    }
  }
}
