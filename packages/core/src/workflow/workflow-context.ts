import { randomUUID } from 'node:crypto'
import { currentContext, type InvocationContext } from '../context.js'
import { AbortedError, NonDeterminismError, WorkflowContextError, WorkflowVersionError } from '../errors.js'
import { routeCalls } from '../orchestration/router.js'
import type { NencRuntime } from '../runtime.js'
import type { AnyTask, Task } from '../task.js'
import { RecordedValues, type WorkflowDataStore } from './recorded-values.js'

/**
 * The workflow the running task belongs to, from inside the task: `const wf = workflow()`.
 * Data is shared by every task of the workflow; the recorded helpers (`random`, `now`, `uuid`,
 * `execute`) belong to the workflow root's own execution, which replays them when it runs again
 * (retry, recovery, a stop): the same values come back and finished children are not run again.
 */
export interface WorkflowContext {
  /** The workflow id: the root invocation's id. */
  readonly id: string
  /** The root's task id. */
  readonly type: string
  /** Set on a sub-workflow (`forceNewWorkflow`): the workflow that started it. */
  readonly parentWorkflowId: string | null
  /** True in the root's own execution (where the recorded helpers work). */
  readonly isRoot: boolean
  /** A value stored with `setData` by any task of this workflow; undefined when none. */
  getData<T = unknown>(key: string): Promise<T | undefined>
  /** Stores a value (through the app's serializer) for every task of this workflow. */
  setData(key: string, value: unknown): Promise<void>
  /** A number in [0, 1), recorded: a run again returns the same one at the same point. */
  random(): Promise<number>
  /** The real time this point was first reached, recorded. */
  now(): Promise<Date>
  /** A random UUID, recorded. */
  uuid(): Promise<string>
  /**
   * Waits `ms` without occupying a runner slot. The wake-up time is recorded when the sleep is
   * first reached, so a run again (after a stop, a recovery or a retry) waits only what is left —
   * on whichever runner runs it.
   */
  sleep(ms: number): Promise<void>
  /**
   * Runs a child and returns its result. The child is recorded by its position in this
   * execution and its call (task and arguments): a run again reuses it (a finished child is not
   * run again), and one that asks for another call at a recorded position fails with
   * `NonDeterminismError`.
   */
  execute<A extends unknown[], R>(task: Task<A, R>, ...args: A): Promise<R>
}

/** One execution's workflow state: its counters and recorded values. */
class WorkflowRun implements WorkflowContext {
  readonly id: string
  readonly type: string
  readonly parentWorkflowId: string | null
  readonly isRoot: boolean
  private readonly values: RecordedValues
  private readonly counters = { random: 0, now: 0, uuid: 0, sleep: 0 }

  constructor(
    private readonly rt: NencRuntime,
    private readonly ctx: InvocationContext,
    private readonly store: WorkflowDataStore,
  ) {
    this.id = ctx.workflow.id
    this.type = ctx.workflow.type
    this.parentWorkflowId = ctx.workflow.parentWorkflowId
    this.isRoot = ctx.workflow.id === ctx.invocationId
    this.values = new RecordedValues(store, ctx.invocationId, attemptOf(ctx))
  }

  async getData<T = unknown>(key: string): Promise<T | undefined> {
    const raw = await this.store.get(this.id, dataKey(key))
    return raw === null ? undefined : (this.rt.serializer.deserialize(raw) as T)
  }

  async setData(key: string, value: unknown): Promise<void> {
    const text = this.rt.serializer.serialize(value, `workflow data "${key}"`)
    await this.refuseStale(`setData("${key}")`)
    await this.store.set(this.id, dataKey(key), text)
  }

  random(): Promise<number> {
    const name = this.next('random')
    return this.values.value(name, () => JSON.stringify(Math.random())).then(Number)
  }

  now(): Promise<Date> {
    const name = this.next('now')
    return this.values.value(name, () => String(Date.now())).then((v) => new Date(Number(v)))
  }

  uuid(): Promise<string> {
    const name = this.next('uuid')
    return this.values.value(name, () => randomUUID())
  }

  async sleep(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new WorkflowContextError(`wf.sleep(): ms must be a finite number ≥ 0, got ${String(ms)}.`)
    const name = this.next('sleep')
    const wakeAt = Number(await this.values.value(name, () => String(Date.now() + ms)))
    if (wakeAt <= Date.now()) return
    // Counted as waiting, like a task awaiting a child: the slot is free, and a runner that
    // stops reroutes the invocation at once; its replay sleeps only until the recorded time.
    const { hooks, invocationId, signal } = this.ctx
    hooks.waitingStart(invocationId)
    try {
      // In steps of at most setTimeout's largest delay (about 24.8 days).
      for (let left = wakeAt - Date.now(); left > 0; left = wakeAt - Date.now())
        await delay(Math.min(left, 2 ** 31 - 1), signal)
    } finally {
      hooks.waitingEnd(invocationId)
    }
  }

  execute<A extends unknown[], R>(task: Task<A, R>, ...args: A): Promise<R> {
    this.rootOnly('execute')
    if (this.rt.getTask(task.taskName) !== (task as unknown as AnyTask))
      throw new WorkflowContextError(
        `wf.execute(): task "${task.taskName}" is not a task of app "${this.rt.appId}" (define it with this app's task()).`,
      )
    if (this.rt.config.value<boolean>('devMode.syncTasks')) return task(...args).then((inv) => inv.result())
    // Called synchronously: routeCalls takes this call's position before its first await.
    return routeCalls<R>(this.rt, task as unknown as AnyTask, [args], {
      beforeRoute: (calls) => this.checkRecordedChild(calls[0]!),
    }).then(([inv]) => inv!.result())
  }

  /**
   * The child at a position is recorded as `exec:<position>` = task id and call id. A run again
   * that finds another call there fails before routing anything.
   */
  private async checkRecordedChild(call: { position: number | undefined; callId: string }): Promise<void> {
    if (call.position === undefined) return
    const name = `exec:${call.position}`
    const requested = call.callId
    const recorded = await this.values.recorded(name)
    if (recorded === null) return this.values.record(name, requested)
    if (recorded !== requested)
      throw new NonDeterminismError(this.id, call.position, describeCall(recorded), describeCall(requested))
  }

  /** The recorded helper's name for its next use, taken at call time so concurrent uses keep their order. */
  private next(kind: 'random' | 'now' | 'uuid' | 'sleep'): string {
    this.rootOnly(kind)
    return `${kind}:${this.counters[kind]++}`
  }

  private rootOnly(what: string): void {
    if (this.isRoot) return
    throw new WorkflowContextError(
      `wf.${what}() is recorded for the workflow root only, and "${this.ctx.taskName}" (invocation ` +
        `${this.ctx.invocationId}) is a task inside workflow ${this.id}. Call it in the root, pass the value ` +
        'down as an argument, or make this task a sub-workflow (forceNewWorkflow: true).',
    )
  }

  /**
   * A zombie (an attempt whose invocation was claimed again) must not overwrite workflow data:
   * the write goes ahead only while this execution's attempt is still the invocation's. The check
   * and the write are two steps, so a zombie that passes the check just before it is superseded
   * can still write once; everything the recorded helpers store is fenced without that gap
   * (see {@link RecordedValues}).
   */
  private async refuseStale(what: string): Promise<void> {
    if (this.ctx.claimAttempt === undefined) return // dev mode: one process, no zombies
    const [state] = await this.rt.backend.orchestrator.getStates([this.ctx.invocationId])
    if (state && state.attempt !== this.ctx.claimAttempt)
      throw new WorkflowContextError(
        `${what} refused: attempt ${this.ctx.claimAttempt} of invocation ${this.ctx.invocationId} is stale ` +
          `(the invocation is on attempt ${state.attempt}); a newer run owns the workflow.`,
      )
  }
}

/** Resolves after `ms`, or rejects with `AbortedError` when the invocation's signal aborts (killed, timed out). */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortedError('wf.sleep() was aborted: the invocation was stopped.'))
    const onAbort = () => {
      clearTimeout(timer)
      reject(new AbortedError('wf.sleep() was aborted: the invocation was stopped.'))
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** `exec:` values are call ids, `<task id>:<arguments hash>`: shown as such in errors. */
const describeCall = (callId: string): string => `call ${callId}`

const dataKey = (key: string): string => `data:${key}`

const attemptOf = (ctx: InvocationContext): number => ctx.claimAttempt ?? ctx.attempt + 1

const runs = new WeakMap<InvocationContext, WorkflowRun>()
const devStores = new WeakMap<NencRuntime, WorkflowDataStore>()

/** The state backend's workflow data; in dev mode a map of the app's process. */
function storeOf(rt: NencRuntime): WorkflowDataStore {
  if (!rt.config.value<boolean>('devMode.syncTasks')) {
    const sb = rt.backend.stateBackend
    return {
      get: (w, k) => sb.getWorkflowData(w, k),
      set: (w, k, v) => sb.setWorkflowData(w, k, v),
    }
  }
  let store = devStores.get(rt)
  if (!store) {
    const map = new Map<string, string>()
    store = {
      get: async (w, k) => map.get(`${w}\u0000${k}`) ?? null,
      set: async (w, k, v) => void map.set(`${w}\u0000${k}`, v),
    }
    devStores.set(rt, store)
  }
  return store
}

/** The running task's workflow context. Throws `WorkflowContextError` outside a task. */
export function workflow(): WorkflowContext {
  const ctx = currentContext()
  if (!ctx?.runtime) throw new WorkflowContextError('workflow() was called outside a running task.')
  let run = runs.get(ctx)
  if (!run) {
    run = new WorkflowRun(ctx.runtime, ctx, storeOf(ctx.runtime))
    runs.set(ctx, run)
  }
  return run
}

/**
 * Before a workflow root with a `version` runs: its first run records the version, a run again
 * under another version is refused with `WorkflowVersionError` (the invocation fails; nothing is
 * replayed into code it does not fit).
 */
export async function checkWorkflowVersion(ctx: InvocationContext, version: string): Promise<void> {
  if (!ctx.runtime || ctx.workflow.id !== ctx.invocationId) return
  const values = new RecordedValues(storeOf(ctx.runtime), ctx.invocationId, attemptOf(ctx))
  const recorded = await values.recorded('version')
  if (recorded === null) return values.record('version', version)
  if (recorded !== version) throw new WorkflowVersionError(ctx.invocationId, ctx.taskName, recorded, version)
}
