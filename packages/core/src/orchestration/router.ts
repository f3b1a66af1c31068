import type { ConcurrencyMode } from '../config/schema.js'
import { currentContext } from '../context.js'
import { callIdOf, newInvocationId, sha256 } from '../ids.js'
import type { RegisterRequest } from '../interfaces/orchestrator.js'
import type { InvocationRecord, WorkflowIdentity } from '../interfaces/state-backend.js'
import { DistributedInvocation } from '../invocation/distributed-invocation.js'
import type { Invocation } from '../invocation/invocation.js'
import type { NencRuntime } from '../runtime.js'
import type { AnyTask } from '../task.js'
import { instruments } from '../telemetry/instruments.js'
import { captureTraceContext } from '../telemetry/trace-context.js'
import { serializeArgs } from './args.js'
import { stepsOf } from './composed-steps.js'
import { chooseChildIds } from './replay.js'
import { routeScheduled } from './schedule.js'

export interface RouteCallsOptions {
  /** A scheduled call: ms epoch before which it must not start. */
  runAt?: number
  /** Called with each call's position in the caller's execution (absent in dev mode) and call id. */
  beforeRoute?: (calls: { position: number | undefined; callId: string }[]) => Promise<void>
  /**
   * Caller-chosen ids, one per call (outside a task only): routing an id that is already
   * registered registers nothing new, so a caller that may route the same call twice (a trigger
   * run recovered after a crash) gets one invocation.
   */
  ids?: readonly string[]
}

/** The concurrency scope key of one call: null when the mode is disabled. */
function scopeKey(
  rt: NencRuntime,
  task: AnyTask,
  mode: ConcurrencyMode,
  args: unknown[],
  callId: string,
): string | null {
  switch (mode) {
    case 'disabled':
      return null
    case 'task':
      return task.id
    case 'arguments':
      return callId
    case 'keys': {
      const sel = task.keySelector
      const value = typeof sel === 'function' ? sel(...args) : (sel ?? []).map((i) => args[i])
      return `${task.id}#keys:${sha256(rt.serializer.serialize(value, `${task.taskName} concurrency key`))}`
    }
  }
}

/**
 * Routes calls of one task in one batch: serialize (failing before anything is written), store
 * large arguments, then one route step: store the invocation records, register them
 * (registration concurrency may reuse existing ones) and queue the new ids. Records go first so
 * that an id a runner can see always has its record; a record orphaned by a reuse is harmless.
 *
 * Inside a task, each call's id is derived from the parent and the call's position in the
 * parent's execution ({@link childInvocationId}): a parent that runs again reuses the children
 * an earlier run created ({@link chooseChildIds}) — they are neither stored, registered nor
 * queued again.
 *
 * With `runAt` (a scheduled call) the records carry it and the ids are queued with the delay left
 * ({@link routeScheduled}). `beforeRoute` sees each call's position and call id once they are
 * known and before anything is routed; the workflow context checks them against its record.
 */
export async function routeCalls<R>(
  rt: NencRuntime,
  task: AnyTask,
  argsList: readonly unknown[][],
  options: RouteCallsOptions = {},
): Promise<Invocation<R>[]> {
  const { runAt, beforeRoute, ids } = options
  if (ids && ids.length !== argsList.length)
    throw new RangeError(`routeCalls: ${ids.length} ids for ${argsList.length} calls of ${task.taskName}`)
  // Positions are taken before the first await, in call order: `Promise.all([a(), b()])` gives
  // a and b the same positions in every run of the parent.
  const early = currentContext()
  const cursor = early && early.appId === rt.appId ? early.replay : undefined
  const positions = cursor?.take(argsList.length)
  await rt.ready()
  const ctx = currentContext()
  const inTask = ctx && ctx.appId === rt.appId ? ctx : undefined
  const actor = inTask?.runnerId ?? rt.runner.runnerId
  const policy = {
    disabled: rt.config.value<boolean>('clientDataStore.disabled'),
    minSizeToCache: rt.config.value<number>('clientDataStore.minSizeToCache'),
  }
  const large: { key: string; value: string }[] = []
  const calls = argsList.map((args) => {
    const serialized = serializeArgs(rt.serializer, task.taskName, args, policy, large)
    return { args, serialized, callId: callIdOf(task.id, serialized) }
  })
  if (beforeRoute) await beforeRoute(calls.map((c, i) => ({ position: positions?.[i], callId: c.callId })))
  const choices = ids
    ? ids.map((id) => ({ fresh: id }))
    : cursor && positions
      ? await chooseChildIds(
          rt,
          cursor,
          calls.map((c, i) => ({ position: positions[i]!, callId: c.callId })),
        )
      : calls.map(() => ({ fresh: newInvocationId() }))

  const records: InvocationRecord[] = []
  const requests: RegisterRequest[] = []
  const now = Date.now()
  // The caller's span, when one records (an OpenTelemetry SDK is set up): each run becomes its child.
  const traceContext = captureTraceContext()
  calls.forEach(({ args, serialized, callId }, i) => {
    const choice = choices[i]!
    if ('reuse' in choice) return
    const id = choice.fresh
    let workflow: WorkflowIdentity
    if (!inTask) workflow = { id, type: task.id, parentWorkflowId: null }
    else if (task.options.forceNewWorkflow)
      workflow = { id, type: task.id, parentWorkflowId: inTask.workflow.id }
    else workflow = inTask.workflow
    records.push({
      id,
      taskId: task.id,
      taskName: task.taskName,
      callId,
      args: serialized,
      parentId: inTask?.invocationId ?? null,
      workflow,
      createdAt: now,
      ...(runAt === undefined ? {} : { runAt }),
      ...(traceContext ? { traceContext } : {}),
    })
    requests.push({
      id,
      taskId: task.id,
      callId,
      actor,
      registrationKey: scopeKey(rt, task, task.options.registrationConcurrency, args, callId),
      runningKey: scopeKey(rt, task, task.options.runningConcurrency, args, callId),
      rerouteOnConcurrencyControl: task.options.rerouteOnConcurrencyControl,
    })
  })
  if (large.length && requests.length) await rt.backend.clientDataStore.store(dedupe(large))
  const results =
    requests.length === 0
      ? []
      : runAt === undefined
        ? await stepsOf(rt.backend).route(records, requests)
        : await routeScheduled(rt.backend, records, requests, runAt)
  const created = results.reduce((n, r) => (r.reused ? n : n + 1), 0)
  if (created) instruments().routed.add(created, { 'nenc.task': task.taskName })
  let next = 0
  return choices.map((choice) => {
    if ('reuse' in choice) return new DistributedInvocation<R>(rt, choice.reuse, task.taskName, true)
    const r = results[next++]!
    return new DistributedInvocation<R>(rt, r.reused ? r.existingId : r.id, task.taskName, r.reused)
  })
}

function dedupe(items: { key: string; value: string }[]): { key: string; value: string }[] {
  const seen = new Map<string, { key: string; value: string }>()
  for (const it of items) seen.set(it.key, it)
  return [...seen.values()]
}
