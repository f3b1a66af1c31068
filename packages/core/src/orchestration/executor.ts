import { type InvocationContext, invocationStorage, type WaitHooks } from '../context.js'
import { RetryError, SerializationError, TaskNotFoundError, TaskTimeoutError } from '../errors.js'
import type { ClaimedInvocation } from '../interfaces/fused-steps.js'
import type { InvocationState } from '../interfaces/orchestrator.js'
import type { InvocationRecord } from '../interfaces/state-backend.js'
import { invocationLogFields } from '../log-fields.js'
import type { Logger } from '../logger.js'
import type { NencRuntime } from '../runtime.js'
import type { AnyTask } from '../task.js'
import { observeRun } from '../telemetry/run-telemetry.js'
import { checkWorkflowVersion } from '../workflow/workflow-context.js'
import { deserializeArgsNow } from './args.js'
import { warnStale } from './claim.js'
import { encodeError } from './errors-codec.js'
import { FinishBatcher } from './finish-batcher.js'
import { ProgressReporter } from './progress.js'
import { ReplayCursor } from './replay.js'

/** A claimed invocation that is RUNNING on this runner and ready to execute. */
export interface StartedInvocation extends ClaimedInvocation {}

/** Why an execution's signal was aborted. */
export const KILLED = Symbol('nenc.killed')

/**
 * Executes invocations for one runner: moves claimed ones to RUNNING in one batch, runs each
 * task function inside its {@link InvocationContext}, and ends it through the
 * {@link FinishBatcher}: SUCCESS with the result, RETRY (with backoff) for retriable errors
 * within `maxRetries`, FAILED otherwise. It never throws: every failure becomes an outcome.
 */
export class InvocationExecutor {
  readonly finisher: FinishBatcher

  constructor(
    private readonly rt: NencRuntime,
    private readonly runnerId: string,
    private readonly hooks: WaitHooks,
    isStopping: () => boolean,
  ) {
    this.finisher = new FinishBatcher(rt, runnerId, isStopping)
  }

  /**
   * PENDING → RUNNING for a batch, fenced by each claim's attempt. Returns the ones this runner
   * now runs; ids whose transition was rejected (lost to recovery or a stop) are dropped. Throws
   * only when the backend fails, and then the caller reroutes the batch.
   */
  async start(claimed: readonly ClaimedInvocation[]): Promise<StartedInvocation[]> {
    // Claims a step already started (RUNNING for this runner) need no transition of their own.
    const started: StartedInvocation[] = claimed.filter((c) => c.state.status === 'running')
    const pending = claimed.filter((c) => c.state.status !== 'running')
    if (pending.length === 0) return started
    const ids = pending.map((c) => c.state.id)
    const outcomes = await this.rt.backend.orchestrator.transition(
      pending.map((c) => ({
        id: c.state.id,
        to: 'running' as const,
        actor: this.runnerId,
        attempt: c.state.attempt,
      })),
    )
    warnStale(this.rt, ids, outcomes)
    outcomes.forEach((o, i) => {
      if (!o.ok) return
      const c = pending[i]!
      started.push(
        c.recordError
          ? { state: o.state, record: null, recordError: c.recordError }
          : { state: o.state, record: c.record },
      )
    })
    return started
  }

  /**
   * Runs one started invocation to its end and queues its outcome; it resolves once the task
   * function is done, before the outcome is written, so the runner's next claim overlaps the
   * write (call `finisher.drain()` to wait for it). `abort` lets the runner kill it (`abort(KILLED)`):
   * the task's signal aborts and its outcome, if it ever comes, is dropped. A
   * {@link LazyAbortController} keeps the common case — nobody reads the signal — free.
   */
  async execute(inv: StartedInvocation, abort: ExecutionControl): Promise<void> {
    const { state, record } = inv
    if (!record) {
      const err =
        inv.recordError ??
        new SerializationError(`invocation ${state.id}`, 'its record is missing from the state backend')
      await this.finisher.finish({
        id: state.id,
        attempt: state.attempt,
        to: 'failed',
        outcome: { kind: 'error', value: encodeError(err) },
      })
      return
    }
    const task = this.rt.getTask(record.taskName)
    if (!task) {
      await this.finisher.finish({
        id: state.id,
        attempt: state.attempt,
        to: 'failed',
        outcome: {
          kind: 'error',
          value: encodeError(new TaskNotFoundError(record.taskName, this.rt.taskNames())),
        },
      })
      return
    }
    let timer: NodeJS.Timeout | undefined
    // Trigger conditions watching this task see its arguments; unwatched tasks carry nothing.
    const source = this.rt.triggers?.watches(task.taskName)
      ? { taskName: task.taskName, args: record.args }
      : undefined
    const telemetry = observeRun(this.rt.appId, this.runnerId, state, record)
    let ctx: RunContext | undefined
    try {
      const pending = deserializeArgsNow(
        this.rt.serializer,
        record.args,
        this.rt.backend.clientDataStore,
        this.rt.largeValues,
      )
      // Awaited only when a large value had to be fetched: an await costs a promise and a turn.
      const args = pending instanceof Promise ? await pending : pending
      ctx = new RunContext(this.rt, this.runnerId, this.hooks, state, record, task.taskName, abort)
      const runCtx = ctx
      const timeoutMs = task.options.timeoutMs
      const version = task.options.version
      let run: unknown = telemetry.within(() =>
        version === undefined
          ? invocationStorage.run(runCtx, () => task.fn(...args))
          : invocationStorage.run(runCtx, async () => {
              await checkWorkflowVersion(runCtx, version)
              return task.fn(...args)
            }),
      )
      if (timeoutMs > 0) {
        // A JS function cannot be stopped in-isolate: a timed-out task stops being awaited, its
        // signal aborts (well-behaved code stops there) and the retry policy takes over.
        run = Promise.race([
          run,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              const err = new TaskTimeoutError(task.taskName, timeoutMs)
              abort.abort(err)
              reject(err)
            }, timeoutMs)
          }),
        ])
      }
      const value = await run
      // The final progress is stored before the outcome.
      if (ctx.progressReporter) await ctx.progressReporter.flush()
      if (isKilled(abort)) return telemetry.killed() // rerouted by the runner: another run will store the outcome
      const text = this.rt.serializer.serialize(value, `the result of ${task.taskName}`)
      telemetry.end('success')
      this.finisher.enqueue(
        { id: state.id, attempt: state.attempt, to: 'success', outcome: { kind: 'result', value: text } },
        source,
      )
    } catch (err) {
      if (ctx?.progressReporter) await ctx.progressReporter.flush()
      if (isKilled(abort)) return telemetry.killed() // rerouted by the runner
      const failure = this.failure(task, state, err)
      telemetry.end(failure.to, err)
      this.finisher.enqueue(failure, source)
    } finally {
      if (timer) clearTimeout(timer)
    }
  }

  private failure(task: AnyTask, state: InvocationState, err: unknown) {
    const retriable =
      err instanceof RetryError ||
      err instanceof TaskTimeoutError ||
      task.options.retryFor.some((c) => err instanceof c)
    if (retriable && state.retries < task.options.maxRetries) {
      return {
        id: state.id,
        attempt: state.attempt,
        to: 'retry' as const,
        delayMs: retryDelayMs(task, state.retries),
      }
    }
    return {
      id: state.id,
      attempt: state.attempt,
      to: 'failed' as const,
      outcome: { kind: 'error' as const, value: encodeError(err) },
    }
  }
}

/**
 * The {@link InvocationContext} of one execution. A class rather than an object literal: V8
 * builds a literal with `get` accessors on its slow path (each accessor defined at run time),
 * measured at ~2.5 µs per invocation against ~0.1 µs for this. `signal` and `logger` are getters
 * on the prototype (read, or destructured, as before); what only the executor needs is private.
 */
class RunContext implements InvocationContext {
  readonly invocationId: string
  readonly taskName: string
  readonly runnerId: string
  readonly workflow: InvocationRecord['workflow']
  readonly attempt: number
  readonly hooks: WaitHooks
  readonly appId: string
  readonly replay: ReplayCursor
  readonly claimAttempt: number
  readonly runtime: NencRuntime
  /** Built on the first report: most tasks never report progress. */
  readonly progress: (value: unknown) => void
  readonly #abort: ExecutionControl
  readonly #state: InvocationState
  #reporter: ProgressReporter | undefined = undefined

  constructor(
    rt: NencRuntime,
    runnerId: string,
    hooks: WaitHooks,
    state: InvocationState,
    record: InvocationRecord,
    taskName: string,
    abort: ExecutionControl,
  ) {
    this.invocationId = state.id
    this.taskName = taskName
    this.runnerId = runnerId
    this.workflow = record.workflow
    this.attempt = state.retries
    this.hooks = hooks
    this.appId = rt.appId
    this.replay = new ReplayCursor(state.id, state.attempt, state.retries)
    this.claimAttempt = state.attempt
    this.runtime = rt
    this.#abort = abort
    this.#state = state
    this.progress = (value) => {
      this.#reporter ??= new ProgressReporter(rt, state.id, state.attempt, taskName)
      this.#reporter.report(value)
    }
  }

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  // Built on use: most tasks never log, and a child logger per invocation costs.
  get logger(): Logger {
    const s = this.#state
    return this.runtime.logger.child(invocationLogFields(s.id, this.taskName, s.attempt, s.retries))
  }

  /** The progress reporter, if the task reported any (flushed before the outcome is stored). */
  get progressReporter(): ProgressReporter | undefined {
    return this.#reporter
  }
}

/**
 * The backoff before retry number `retriesBefore + 1`: `retryBackoffMs` doubled per retry already
 * used, capped at `retryBackoffMaxMs`. One function, so blocking control computes the same due
 * time as the executor that scheduled the retry.
 */
export function retryDelayMs(task: AnyTask, retriesBefore: number): number {
  const { retryBackoffMs, retryBackoffMaxMs } = task.options
  return retryBackoffMs > 0 ? Math.min(retryBackoffMs * 2 ** retriesBefore, retryBackoffMaxMs) : 0
}

/** What the executor needs from the runner's per-slot controller; `AbortController` fits. */
export interface ExecutionControl {
  readonly signal: AbortSignal
  abort(reason?: unknown): void
}

/**
 * An AbortController whose signal is only built when someone reads it: most tasks never do, and
 * building one per invocation cost ~5% of the memory backend's throughput.
 */
export class LazyAbortController implements ExecutionControl {
  private controller: AbortController | null = null
  private reason: unknown = undefined
  private aborted = false

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      if (this.aborted) this.controller.abort(this.reason)
    }
    return this.controller.signal
  }

  abort(reason?: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.controller?.abort(reason)
  }

  get abortReason(): unknown {
    return this.reason
  }

  get isAborted(): boolean {
    return this.aborted
  }
}

function isKilled(c: ExecutionControl): boolean {
  if (c instanceof LazyAbortController) return c.isAborted && c.abortReason === KILLED
  return c.signal.aborted && c.signal.reason === KILLED
}
