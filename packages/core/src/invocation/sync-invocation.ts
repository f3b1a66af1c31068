import { type InvocationContext, invocationStorage, type WaitHooks } from '../context.js'
import { CancelRefusedError, RetryError, SerializationError, TaskError, TaskTimeoutError } from '../errors.js'
import { newInvocationId } from '../ids.js'
import type { Unsubscribe } from '../interfaces/component.js'
import type { HistoryEntry } from '../interfaces/orchestrator.js'
import { invocationLogFields } from '../log-fields.js'
import { describeError } from '../orchestration/errors-codec.js'
import { type InvocationProgress, MAX_PROGRESS_CHARS } from '../orchestration/progress.js'
import type { ResultOptions } from '../orchestration/result-waiter.js'
import type { NencRuntime } from '../runtime.js'
import type { AnyTask } from '../task.js'
import { checkWorkflowVersion } from '../workflow/workflow-context.js'
import type { Invocation } from './invocation.js'
import { CANCELABLE_STATUSES, checkTransition, type InvocationStatus, type StatusRecord } from './status.js'

const noHooks: WaitHooks = { waitingStart() {}, waitingEnd() {} }

/**
 * Dev mode (`devMode.syncTasks`): the call runs inline at call time, through the same statuses
 * (REGISTERED → PENDING → RUNNING → SUCCESS/FAILED, RETRY on retriable errors) and with the same
 * errors as a distributed run, without touching any backend. Arguments still go through the
 * serializer, so a value that would fail in production fails here too.
 */
export class SyncInvocation<R> implements Invocation<R> {
  readonly id = newInvocationId()
  readonly reused = false
  private readonly records: HistoryEntry[] = []
  private current: StatusRecord | null = null
  private outcome: { ok: true; value: R } | { ok: false; error: TaskError } | null = null
  private lastProgress: InvocationProgress | null = null

  constructor(
    private readonly rt: NencRuntime,
    private readonly task: AnyTask,
  ) {}

  get taskName(): string {
    return this.task.taskName
  }

  private move(to: InvocationStatus): void {
    const actor = 'dev-mode'
    const check = checkTransition(this.current, to, actor, Date.now())
    if (!check.ok) throw new Error(`dev mode produced an invalid transition to ${to}`)
    this.current = check.next
    this.records.push({
      status: to,
      owner: check.next.owner,
      actor,
      timestamp: check.next.timestamp,
      attempt: check.next.attempt,
    })
  }

  /** @internal runs the task to its end (called once, at call time). */
  async run(args: unknown[]): Promise<void> {
    const { serializer } = this.rt
    const roundTripped = serializer.deserialize(
      serializer.serialize(args, `${this.task.taskName}(args)`),
    ) as unknown[]
    this.move('registered')
    const parent = invocationStorage.getStore()
    for (let attempt = 0; ; attempt++) {
      this.move('pending')
      this.move('running')
      const abort = new AbortController()
      const ctx: InvocationContext = {
        invocationId: this.id,
        taskName: this.task.taskName,
        runnerId: 'dev-mode',
        workflow: parent?.workflow ?? { id: this.id, type: this.task.id, parentWorkflowId: null },
        attempt,
        signal: abort.signal,
        hooks: noHooks,
        appId: this.rt.appId,
        // Dev mode has no claims: each retry is one more attempt.
        logger: this.rt.logger.child(invocationLogFields(this.id, this.task.taskName, attempt + 1, attempt)),
        progress: (value) => {
          const text = serializer.serialize(value, `the progress of ${this.task.taskName}`)
          if (text.length > MAX_PROGRESS_CHARS)
            throw new SerializationError(
              `the progress of ${this.task.taskName}`,
              `it is ${text.length} characters serialized; progress may be at most ${MAX_PROGRESS_CHARS}`,
            )
          this.lastProgress = {
            value: serializer.deserialize(text),
            attempt: this.current!.attempt,
            updatedAt: Date.now(),
          }
        },
        runtime: this.rt,
      }
      try {
        const version = this.task.options.version
        const value = await invocationStorage.run(ctx, async () => {
          if (version !== undefined) await checkWorkflowVersion(ctx, version)
          return this.task.fn(...roundTripped)
        })
        this.outcome = {
          ok: true,
          value: serializer.deserialize(
            serializer.serialize(value, `the result of ${this.task.taskName}`),
          ) as R,
        }
        this.move('success')
        return
      } catch (err) {
        const o = this.task.options
        const retriable =
          err instanceof RetryError ||
          err instanceof TaskTimeoutError ||
          o.retryFor.some((c) => err instanceof c)
        if (retriable && attempt < o.maxRetries) {
          this.move('retry')
          continue
        }
        this.outcome = { ok: false, error: new TaskError(this.id, this.task.taskName, describeError(err)) }
        this.move('failed')
        return
      }
    }
  }

  async status(): Promise<InvocationStatus> {
    return this.current!.status
  }

  /** Dev mode: the call already ran to its end, so `timeoutMs` never applies. */
  async result(_options?: ResultOptions): Promise<R> {
    if (!this.outcome) throw new Error('dev-mode invocation has not finished')
    if (!this.outcome.ok) throw this.outcome.error
    return this.outcome.value
  }

  async history(): Promise<HistoryEntry[]> {
    return [...this.records]
  }

  /** Dev mode: the last progress the finished call reported. */
  async progress(): Promise<InvocationProgress | null> {
    return this.lastProgress
  }

  /** Dev mode: the call already ran, so the listener hears its last progress once. */
  async onProgress(listener: (progress: InvocationProgress) => void): Promise<Unsubscribe> {
    if (this.lastProgress) listener(this.lastProgress)
    return () => {}
  }

  /** Dev mode: the call already ran to its end, so there is nothing left to cancel. */
  async cancel(): Promise<void> {
    throw new CancelRefusedError(this.id, this.current!.status, CANCELABLE_STATUSES)
  }
}
