/**
 * One error hierarchy for nenc. Every error a user can branch on extends {@link NencError} and
 * carries a string-literal `code`; the original driver or task error travels as `cause`.
 */
export type NencErrorCode =
  | 'TASK_FAILED'
  | 'TASK_NOT_FOUND'
  | 'TASK_DEFINITION'
  | 'TRIGGER_DEFINITION'
  | 'INVALID_EVENT'
  | 'INVALID_TRANSITION'
  | 'OWNERSHIP'
  | 'INVOCATION_NOT_FOUND'
  | 'CONCURRENCY_CONTROLLED'
  | 'SERIALIZATION'
  | 'CONFIG'
  | 'RUNNER_INCOMPATIBLE'
  | 'RUNNER'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND'
  | 'CORRUPT_DATA'
  | 'RETRY'
  | 'TIMEOUT'
  | 'RESULT_TIMEOUT'
  | 'ABORTED'
  | 'INVALID_QUERY'
  | 'CANCELED'
  | 'NOT_CANCELABLE'
  | 'INVALID_SCHEDULE'
  | 'NON_DETERMINISM'
  | 'WORKFLOW_VERSION'
  | 'WORKFLOW_CONTEXT'

/** Root of every error nenc throws on purpose. */
export class NencError extends Error {
  readonly code: NencErrorCode
  constructor(code: NencErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** The remote description of an error raised inside a task, as stored by the runner. */
export interface RemoteErrorInfo {
  name: string
  message: string
  stack?: string
  code?: string
  cause?: RemoteErrorInfo
  /**
   * Set when this error is another invocation's failure re-raised here by awaiting its result (a
   * child's `result()`, a group's `results()`): that invocation. Following `from` invocation by
   * invocation gives the error chain down to where it was first thrown (`nenc invocation show`).
   */
  from?: { invocationId: string; taskName: string }
}

/** A task's function threw (or its invocation ended FAILED); `remote` describes the original error. */
export class TaskError extends NencError {
  readonly invocationId: string
  readonly taskName: string
  readonly remote: RemoteErrorInfo
  constructor(invocationId: string, taskName: string, remote: RemoteErrorInfo) {
    super(
      'TASK_FAILED',
      `Task "${taskName}" (invocation ${invocationId}) failed: ${remote.name}: ${remote.message}`,
    )
    this.invocationId = invocationId
    this.taskName = taskName
    this.remote = remote
    if (remote.stack) this.stack = `${this.name}: ${this.message}\n--- remote stack ---\n${remote.stack}`
  }
}

/** The invocation names a task this app does not define (typo, or runner built from another app). */
export class TaskNotFoundError extends NencError {
  readonly taskName: string
  constructor(taskName: string, known: string[]) {
    super(
      'TASK_NOT_FOUND',
      `No task named "${taskName}" is defined in this app (known: ${known.length ? known.join(', ') : 'none'}). ` +
        'Make sure the runner loads the same app module as the caller.',
    )
    this.taskName = taskName
  }
}

/** A task was defined wrongly: duplicate name, bad option. */
export class TaskDefinitionError extends NencError {
  constructor(message: string) {
    super('TASK_DEFINITION', message)
  }
}

/**
 * A trigger was declared wrongly: invalid cron expression, unknown time zone, a condition on a
 * task of another app, arguments that do not fit the task. `task` names the task it was declared
 * on and `trigger` its position in the `triggers` list.
 */
export class TriggerDefinitionError extends NencError {
  readonly task: string
  readonly trigger: number
  constructor(task: string, trigger: number, reason: string) {
    super('TRIGGER_DEFINITION', `Task "${task}", trigger ${trigger}: ${reason}`)
    this.task = task
    this.trigger = trigger
  }
}

/** `app.emitEvent` was given a bad event code. */
export class InvalidEventError extends NencError {
  constructor(reason: string) {
    super('INVALID_EVENT', `Cannot emit the event: ${reason}`)
  }
}

/** A status change that the state machine does not allow; nothing was written. */
export class InvalidTransitionError extends NencError {
  readonly invocationId: string
  readonly from: string | null
  readonly to: string
  readonly allowed: readonly string[]
  constructor(invocationId: string, from: string | null, to: string, allowed: readonly string[]) {
    super(
      'INVALID_TRANSITION',
      `Invocation ${invocationId} cannot go from ${from ?? '(new)'} to ${to}; allowed from ${from ?? '(new)'}: ${
        allowed.length ? allowed.join(', ') : 'none (final status)'
      }.`,
    )
    this.invocationId = invocationId
    this.from = from
    this.to = to
    this.allowed = allowed
  }
}

/** A status change attempted by a runner that does not own the invocation; nothing was written. */
export class OwnershipError extends NencError {
  readonly invocationId: string
  readonly from: string
  readonly to: string
  readonly owner: string | null
  readonly actor: string | null
  constructor(
    invocationId: string,
    from: string,
    to: string,
    owner: string | null,
    actor: string | null,
    reason: string,
  ) {
    super(
      'OWNERSHIP',
      `Invocation ${invocationId} cannot go from ${from} to ${to} by ${actor ?? '(no runner)'}: ${reason} (owner: ${owner ?? 'none'}).`,
    )
    this.invocationId = invocationId
    this.from = from
    this.to = to
    this.owner = owner
    this.actor = actor
  }
}

export class InvocationNotFoundError extends NencError {
  readonly invocationId: string
  constructor(invocationId: string, where = 'the orchestrator') {
    super('INVOCATION_NOT_FOUND', `Invocation ${invocationId} does not exist in ${where}.`)
    this.invocationId = invocationId
  }
}

/** The invocation was dropped by running-concurrency control (CONCURRENCY_CONTROLLED_FINAL): it has no result. */
export class ConcurrencyControlledError extends NencError {
  readonly invocationId: string
  constructor(invocationId: string, taskName: string) {
    super(
      'CONCURRENCY_CONTROLLED',
      `Invocation ${invocationId} of "${taskName}" was not run: another invocation held its running-concurrency slot ` +
        'and the task does not reroute (set rerouteOnConcurrencyControl: true to queue it instead).',
    )
    this.invocationId = invocationId
  }
}

/** A value could not be serialized or deserialized; `path` says where (e.g. `add(arg 1).items[3]`). */
export class SerializationError extends NencError {
  readonly path: string
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('SERIALIZATION', `Cannot serialize ${path}: ${reason}`, options)
    this.path = path
  }
}

/** A configuration value is invalid; names the key and the source it came from. */
export class ConfigError extends NencError {
  readonly key: string
  readonly source: string
  constructor(key: string, source: string, reason: string) {
    super('CONFIG', `Invalid configuration value for "${key}" (from ${source}): ${reason}`)
    this.key = key
    this.source = source
  }
}

/** The chosen runner cannot share memory with an in-memory component. */
export class RunnerIncompatibleError extends NencError {
  readonly runner: string
  readonly component: string
  constructor(runner: string, component: string) {
    super(
      'RUNNER_INCOMPATIBLE',
      `${runner} runs tasks outside this process and cannot use the in-memory ${component}; ` +
        'use ThreadRunner, or a Redis/PostgreSQL/MongoDB backend.',
    )
    this.runner = runner
    this.component = component
  }
}

export class RunnerError extends NencError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNNER', message, options)
  }
}

/** The backend server cannot be reached; the original driver error is the `cause`. */
export class BackendUnavailableError extends NencError {
  readonly backend: string
  constructor(backend: string, message: string, options?: { cause?: unknown }) {
    super('BACKEND_UNAVAILABLE', `${backend} backend unavailable: ${message}`, options)
    this.backend = backend
  }
}

/** The backend answered with an error (failed query, timeout); the driver's error is the `cause`. */
export class BackendError extends NencError {
  readonly backend: string
  constructor(backend: string, message: string, options?: { cause?: unknown }) {
    super('BACKEND', `${backend} backend error: ${message}`, options)
    this.backend = backend
  }
}

/** A stored value under a nenc key is not what nenc wrote (corrupted or foreign). */
export class CorruptDataError extends NencError {
  readonly backend: string
  readonly location: string
  constructor(backend: string, location: string, reason: string, options?: { cause?: unknown }) {
    super('CORRUPT_DATA', `${backend}: the value at ${location} is not valid nenc data: ${reason}`, options)
    this.backend = backend
    this.location = location
  }
}

/** Throw inside a task to ask for a retry; always retriable, subject to `maxRetries`. */
export class RetryError extends NencError {
  constructor(message = 'retry requested', options?: { cause?: unknown }) {
    super('RETRY', message, options)
  }
}

/** A task ran longer than its `timeoutMs`. Retriable like any error listed in `retryFor`. */
export class TaskTimeoutError extends NencError {
  readonly timeoutMs: number
  constructor(taskName: string, timeoutMs: number) {
    super('TIMEOUT', `Task "${taskName}" exceeded its timeout of ${timeoutMs} ms.`)
    this.timeoutMs = timeoutMs
  }
}

/** A wait was abandoned because the runner stopped or the invocation was killed. */
export class AbortedError extends NencError {
  constructor(message: string) {
    super('ABORTED', message)
  }
}

/**
 * `result({ timeoutMs })` (or a group's `results({ timeoutMs })`) gave up waiting. Only the wait
 * ended: the invocation is untouched and may still run and finish later.
 */
export class ResultTimeoutError extends NencError {
  /** The first invocation still not final when the wait gave up. */
  readonly invocationId: string
  /** Every invocation still not final when the wait gave up. */
  readonly invocationIds: readonly string[]
  readonly timeoutMs: number
  constructor(invocationIds: readonly string[], timeoutMs: number) {
    const shown = invocationIds.slice(0, 3).join(', ')
    const more = invocationIds.length > 3 ? ` (+${invocationIds.length - 3} more)` : ''
    const what = invocationIds.length === 1 ? `invocation ${shown}` : `invocations ${shown}${more}`
    super(
      'RESULT_TIMEOUT',
      `No result for ${what} within ${timeoutMs} ms; the invocation is untouched and may still run. ` +
        'Is a runner of this app running?',
    )
    this.invocationId = invocationIds[0] ?? ''
    this.invocationIds = [...invocationIds]
    this.timeoutMs = timeoutMs
  }
}

/** A listing or count query is malformed; `field` names the bad part (limit, cursor, a filter). */
export class InvalidQueryError extends NencError {
  readonly field: string
  constructor(field: string, reason: string) {
    super('INVALID_QUERY', `Invalid listing query, ${field}: ${reason}`)
    this.field = field
  }
}

/** `result()` of an invocation that was canceled (`invocation.cancel()`): it never ran and has no outcome. */
export class InvocationCanceledError extends NencError {
  readonly invocationId: string
  constructor(invocationId: string, taskName: string) {
    super(
      'CANCELED',
      `Invocation ${invocationId} of "${taskName}" was canceled before it ran; it has no result.`,
    )
    this.invocationId = invocationId
  }
}

/**
 * `invocation.cancel()` came too late: the invocation already runs (or ran, or was dropped).
 * Nothing was written; `status` is what the invocation was in when the cancel was refused.
 */
export class CancelRefusedError extends NencError {
  readonly invocationId: string
  readonly status: string
  constructor(invocationId: string, status: string, cancelable: readonly string[]) {
    super(
      'NOT_CANCELABLE',
      `Invocation ${invocationId} cannot be canceled: it is ${status}. Only an invocation that has not started ` +
        `running can be canceled (statuses ${cancelable.join(', ')}).`,
    )
    this.invocationId = invocationId
    this.status = status
  }
}

/** `task.schedule(when)` was given something that is not a delay or a time. */
export class InvalidScheduleError extends NencError {
  readonly taskName: string
  constructor(taskName: string, reason: string) {
    super('INVALID_SCHEDULE', `${taskName}.schedule(): ${reason}`)
    this.taskName = taskName
  }
}

/**
 * A workflow running again asked for a different child at a position its first run recorded:
 * its code is not deterministic (or changed). Names both calls; nothing new was routed.
 */
export class NonDeterminismError extends NencError {
  readonly workflowId: string
  readonly position: number
  readonly recorded: string
  readonly requested: string
  constructor(workflowId: string, position: number, recorded: string, requested: string) {
    super(
      'NON_DETERMINISM',
      `Workflow ${workflowId} is not deterministic: at position ${position} its recorded run executed ${recorded}, ` +
        `this run asks for ${requested}. Keep a workflow's calls in the same order with the same arguments, or ` +
        'give the task a new `version` for new runs.',
    )
    this.workflowId = workflowId
    this.position = position
    this.recorded = recorded
    this.requested = requested
  }
}

/** A workflow recorded with one `version` of its task is replayed by code of another; refused. */
export class WorkflowVersionError extends NencError {
  readonly workflowId: string
  readonly recordedVersion: string
  readonly version: string
  constructor(workflowId: string, taskName: string, recordedVersion: string, version: string) {
    super(
      'WORKFLOW_VERSION',
      `Workflow ${workflowId} of "${taskName}" started with version "${recordedVersion}" and cannot be replayed by ` +
        `version "${version}": run the old version's runners until it finishes, or start a new workflow.`,
    )
    this.workflowId = workflowId
    this.recordedVersion = recordedVersion
    this.version = version
  }
}

/** The workflow context was used where it cannot be (outside a task, a recorded helper in a child, a stale attempt). */
export class WorkflowContextError extends NencError {
  constructor(message: string) {
    super('WORKFLOW_CONTEXT', message)
  }
}
