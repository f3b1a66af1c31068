import { randomUUID } from 'node:crypto'
import { currentContext, type InvocationContext } from '../context.js'
import { AbortedError, NonDeterminismError, WorkflowContextError, WorkflowVersionError } from '../errors.js'
import type { EventCursor, StoredEvent } from '../interfaces/trigger-store.js'
import { routeCalls } from '../orchestration/router.js'
import type { NencRuntime } from '../runtime.js'
import type { AnyTask, Task } from '../task.js'
import { eventDoorbell } from '../triggers/local-events.js'
import {
  checkWaitArguments,
  type PayloadTest,
  parseOutcome,
  parsePlan,
  recordOutcome,
  scanOnce,
  type WaitedEvent,
  type WaitForEventOptions,
  type WaitPlan,
} from './event-wait.js'
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
   * Waits, without occupying a runner slot, for the first event of `code` emitted at or after
   * the time this point was first reached whose payload passes `filter`; null once `timeoutMs`
   * passed without one. The start, the deadline and the event found are recorded: a run again
   * (on any runner) returns the same event, finds one emitted while no runner ran, and returns
   * null at once after a recorded timeout.
   */
  waitForEvent<P = unknown>(code: string, options?: WaitForEventOptions<P>): Promise<WaitedEvent<P> | null>
  /**
   * Runs a child and returns its result. The child is recorded by its position in this
   * execution and its call (task and arguments): a run again reuses it (a finished child is not
   * run again), and one that asks for another call at a recorded position fails with
   * `NonDeterminismError`.
   */
  execute<A extends unknown[], R>(task: Task<A, R>, ...args: A): Promise<R>
}

/** The root-only helpers, each counting its own uses. */
type RecordedHelper = 'random' | 'now' | 'uuid' | 'sleep' | 'waitForEvent'

/** One execution's workflow state: its counters and recorded values. */
class WorkflowRun implements WorkflowContext {
  readonly id: string
  readonly type: string
  readonly parentWorkflowId: string | null
  readonly isRoot: boolean
  private readonly values: RecordedValues
  private readonly counters: Record<RecordedHelper, number> = {
    random: 0,
    now: 0,
    uuid: 0,
    sleep: 0,
    waitForEvent: 0,
  }

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

  async waitForEvent<P = unknown>(
    code: string,
    options: WaitForEventOptions<P> = {},
  ): Promise<WaitedEvent<P> | null> {
    const retentionMs = this.rt.config.value<number>('triggers.eventRetentionMs')
    const { test, timeoutMs } = checkWaitArguments(code, options, retentionMs)
    const name = this.next('waitForEvent')
    const planText = await this.values.value(name, () => {
      const start = Date.now()
      const plan: WaitPlan = { code, start, deadline: timeoutMs === undefined ? null : start + timeoutMs }
      return JSON.stringify(plan)
    })
    const plan = parsePlan(planText, `${name} of workflow ${this.id}`)
    if (plan.code !== code)
      throw new NonDeterminismError(
        this.id,
        Number(name.slice(name.indexOf(':') + 1)),
        `wf.waitForEvent(${JSON.stringify(plan.code)})`,
        `wf.waitForEvent(${JSON.stringify(code)})`,
      )
    // The outcome (the event, or the timeout) is recorded once found: a run again returns it
    // even after more events arrived or the event aged out of the store.
    const outcomeName = `${name}:outcome`
    const where = `${outcomeName} of workflow ${this.id}`
    const recorded = await this.values.recorded(outcomeName)
    const event =
      recorded !== null
        ? parseOutcome(recorded, where)
        : await this.awaitEvent(plan, test).then(async (found) => {
            await this.values.record(outcomeName, recordOutcome(found))
            return found
          })
    if (event === null) return null
    return {
      id: event.id,
      code: event.code,
      payload: this.rt.serializer.deserialize(event.payload) as P,
      emittedAt: event.emittedAt,
    }
  }

  /**
   * Looks at the store until an event passes or the deadline passed. Counted as waiting, like
   * sleep: the slot is free and a stopping runner reroutes the invocation (the abort ends this).
   * Looks every `workflow.eventPollMs`, and at once when this process emits an event of the code.
   */
  private async awaitEvent(plan: WaitPlan, test: PayloadTest): Promise<StoredEvent | null> {
    await this.rt.ready() // dev mode runs tasks before anything bound the backend
    const store = this.rt.backend.triggerStore
    const accepts = (e: { payload: string }) => test(this.rt.serializer.deserialize(e.payload))
    let from: EventCursor = { emittedAt: plan.start, id: '' }
    const { hooks, invocationId, signal } = this.ctx
    const pollMs = this.rt.config.value<number>('workflow.eventPollMs')
    const bell = eventDoorbell(this.rt.appId, plan.code)
    hooks.waitingStart(invocationId)
    try {
      for (;;) {
        if (signal.aborted) throw waitAborted()
        // Read the clock before looking: a look that starts after the deadline has seen every
        // event emitted up to it, so the timeout is only declared after one.
        const now = Date.now()
        const { match, next } = await scanOnce(store, plan, from, accepts)
        if (match) return match
        from = next
        if (plan.deadline !== null && now >= plan.deadline) return null
        const left = plan.deadline === null ? pollMs : Math.max(0, plan.deadline - now)
        await bell.wait(Math.min(pollMs, left), signal, waitAborted)
      }
    } finally {
      bell.close()
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
  private next(kind: RecordedHelper): string {
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

const waitAborted = () => new AbortedError('wf.waitForEvent() was aborted: the invocation was stopped.')

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
