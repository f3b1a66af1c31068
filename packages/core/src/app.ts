import { type ConfigInput, NencConfig } from './config/config.js'
import type { TaskConfigKey } from './config/schema.js'
import { InvalidQueryError, RunnerIncompatibleError, TaskDefinitionError } from './errors.js'
import { taskIdOf } from './ids.js'
import { type Backend, COMPONENT_NAMES } from './interfaces/backend.js'
import { DistributedInvocation } from './invocation/distributed-invocation.js'
import { InvocationGroup } from './invocation/group.js'
import type { Invocation } from './invocation/invocation.js'
import { SyncInvocation } from './invocation/sync-invocation.js'
import type { Logger } from './logger.js'
import { createLogger } from './logger.js'
import { LargeValueCache } from './orchestration/args.js'
import { ResultWaiter } from './orchestration/result-waiter.js'
import { sweepFinished } from './orchestration/retention.js'
import { routeCalls } from './orchestration/router.js'
import { runAtOf } from './orchestration/schedule.js'
import type { BaseRunner } from './runner/base-runner.js'
import { DummyRunner } from './runner/dummy-runner.js'
import type { NencRuntime } from './runtime.js'
import { defaultSerializer } from './serializer/json-serializer.js'
import type { Serializer } from './serializer/serializer.js'
import type { AnyTask, ResolvedTaskOptions, ScheduleOptions, Task, TaskOptions } from './task.js'
import { TriggerEngine } from './triggers/engine.js'

export interface NencOptions {
  /** Scopes every stored key. Config key `appId`, env `NENC__APP_ID`. @default 'nenc' */
  appId?: string
  /** The five components, usually from a backend package (`memoryBackend()`, `redisBackend(...)`). */
  backend: Backend
  /** The runner; built without the app and bound to it here. @default new DummyRunner() */
  runner?: BaseRunner
  /** Configuration given in code (sections `runner`, `orchestrator`, `task`, `tasks`, …). */
  config?: ConfigInput
  /** Dev mode: `{ syncTasks: true }` runs calls inline at call time. */
  devMode?: { syncTasks?: boolean }
  /** Config file path; else `NENC_CONFIG`, else `./nenc.config.json` when present. */
  configFile?: string
  /** Environment to read configuration from. @default process.env */
  env?: Record<string, string | undefined>
  serializer?: Serializer
  logger?: Logger
}

/**
 * A nenc application: its tasks, its backend components and its runner.
 *
 * ```ts
 * const app = new Nenc({ appId: 'shop', backend: memoryBackend(), runner: new ThreadRunner() })
 * const add = app.task('add', async (x: number, y: number) => x + y)
 * await app.runner.start()
 * const sum = await (await add(1, 2)).result()   // 3
 * ```
 */
export class Nenc implements NencRuntime {
  readonly appId: string
  readonly backend: Backend
  readonly runner: BaseRunner
  readonly config: NencConfig
  readonly serializer: Serializer
  readonly logger: Logger
  readonly waiter: ResultWaiter
  readonly largeValues: LargeValueCache
  /** The app's triggers: declared with the `triggers` task option, evaluated by runners. */
  readonly triggers: TriggerEngine
  private readonly tasks = new Map<string, AnyTask>()
  private readyPromise: Promise<void> | null = null

  constructor(options: NencOptions) {
    const code: ConfigInput = { ...(options.config ?? {}) }
    if (options.appId !== undefined) code.appId = options.appId
    if (options.devMode !== undefined) code.devMode = { ...(code.devMode as object), ...options.devMode }
    this.config = new NencConfig({ code, file: options.configFile, env: options.env, logger: options.logger })
    this.appId = this.config.value<string>('appId')
    this.backend = options.backend
    this.runner = options.runner ?? new DummyRunner()
    for (const name of COMPONENT_NAMES) {
      const component = this.backend[name]
      if (component.inMemory && !this.runner.memCompatible) {
        throw new RunnerIncompatibleError(this.runner.runnerClass, `${name} (${component.backendName})`)
      }
    }
    this.serializer = options.serializer ?? defaultSerializer
    this.logger = options.logger ?? createLogger(this.appId)
    this.waiter = new ResultWaiter(
      this.backend.orchestrator,
      this.config.value<number>('orchestrator.resultPollMs'),
      this.config.value<number>('orchestrator.waitOutageMs'),
    )
    this.largeValues = new LargeValueCache(this.config.value<number>('clientDataStore.localCacheSize'))
    this.triggers = new TriggerEngine(this)
    this.runner.bind(this)
  }

  /** True when calls run inline (dev mode). */
  get syncTasks(): boolean {
    return this.config.value<boolean>('devMode.syncTasks')
  }

  /** Binds every component to this app (scripts, schema, indexes). Called on first use; idempotent. */
  ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      const seen = new Set<object>()
      for (const name of COMPONENT_NAMES) {
        const c = this.backend[name]
        if (seen.has(c)) continue
        seen.add(c)
        await c.init({ appId: this.appId })
      }
    })().catch((err) => {
      this.readyPromise = null
      throw err
    })
    return this.readyPromise
  }

  /**
   * Defines a task. The name is its identity across processes; calling the returned task routes
   * an invocation and resolves to its handle. Argument and result types come from `fn`.
   */
  task<A extends unknown[], R>(
    name: string,
    fn: (...args: A) => R | Promise<R>,
    options: TaskOptions<A> = {},
  ): Task<A, Awaited<R>> {
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]+$/.test(name)) {
      throw new TaskDefinitionError(
        `Task name ${JSON.stringify(name)} is invalid: use letters, digits and _ . : - only.`,
      )
    }
    if (this.tasks.has(name))
      throw new TaskDefinitionError(
        `A task named "${name}" is already defined in app "${this.appId}"; task names must be unique.`,
      )
    if (typeof fn !== 'function')
      throw new TaskDefinitionError(`Task "${name}": the second argument must be a function.`)
    const resolved = this.resolveTaskOptions(name, options)
    // Checked before the task exists: a bad trigger leaves no half-defined task behind.
    if (options.triggers !== undefined)
      this.triggers.declare(name, fn as (...a: never[]) => unknown, options.triggers)
    const call = (async (...args: A) => {
      const [inv] = await this.route<A, Awaited<R>>(task, [args])
      return inv!
    }) as Task<A, Awaited<R>>
    const task = Object.assign(call, {
      taskName: name,
      id: taskIdOf(this.appId, name),
      fn: fn as (...args: A) => Awaited<R> | Promise<Awaited<R>>,
      options: resolved,
      keySelector: options.keys,
      parallelize: async (argsList: Iterable<A>) => {
        const list = [...argsList]
        const batch = resolved.parallelBatchSize > 0 ? resolved.parallelBatchSize : Math.max(list.length, 1)
        const invocations: Invocation<Awaited<R>>[] = []
        for (let i = 0; i < list.length; i += batch)
          invocations.push(...(await this.route<A, Awaited<R>>(task, list.slice(i, i + batch))))
        return new InvocationGroup<Awaited<R>>(this.syncTasks ? null : this, invocations)
      },
      schedule: (when: ScheduleOptions) => {
        // Validated now, so a bad schedule fails where it is written, not at call time.
        const runAt = runAtOf(name, when)
        return async (...args: A) => {
          const [inv] = await this.route<A, Awaited<R>>(task, [args], runAt())
          return inv!
        }
      },
    })
    Object.defineProperty(task, 'name', { value: name })
    this.tasks.set(name, task as unknown as AnyTask)
    return task
  }

  /**
   * Defines a task and returns a plain async function: it routes, waits and returns the value or
   * throws the task's error — a drop-in for an existing async function.
   */
  directTask<A extends unknown[], R>(
    name: string,
    fn: (...args: A) => R | Promise<R>,
    options: TaskOptions<A> = {},
  ): (...args: A) => Promise<Awaited<R>> {
    const task: Task<A, Awaited<R>> = this.task<A, R>(name, fn, options)
    return (...args: A) => task(...args).then((inv) => inv.result())
  }

  private async route<A extends unknown[], R>(
    task: Task<A, R>,
    argsList: A[],
    runAt?: number,
  ): Promise<Invocation<R>[]> {
    if (!this.syncTasks) return routeCalls<R>(this, task as unknown as AnyTask, argsList, { runAt })
    const out: Invocation<R>[] = []
    for (const args of argsList) {
      const inv = new SyncInvocation<R>(this, task as unknown as AnyTask)
      await inv.run(args)
      out.push(inv)
    }
    return out
  }

  private resolveTaskOptions(name: string, options: TaskOptions<any[]>): ResolvedTaskOptions {
    const declared: Partial<Record<TaskConfigKey, unknown>> = {}
    for (const k of [
      'maxRetries',
      'retryBackoffMs',
      'retryBackoffMaxMs',
      'timeoutMs',
      'parallelBatchSize',
      'runningConcurrency',
      'registrationConcurrency',
      'rerouteOnConcurrencyControl',
      'forceNewWorkflow',
    ] as const) {
      if (options[k] !== undefined) declared[k] = options[k]
    }
    const r = this.config.taskOptions(name, declared)
    const v = <T>(k: TaskConfigKey) => r.get(k)!.value as T
    const resolved: ResolvedTaskOptions = {
      maxRetries: v('maxRetries'),
      retryBackoffMs: v('retryBackoffMs'),
      retryBackoffMaxMs: v('retryBackoffMaxMs'),
      timeoutMs: v('timeoutMs'),
      parallelBatchSize: v('parallelBatchSize'),
      runningConcurrency: v('runningConcurrency'),
      registrationConcurrency: v('registrationConcurrency'),
      rerouteOnConcurrencyControl: v('rerouteOnConcurrencyControl'),
      forceNewWorkflow: v('forceNewWorkflow'),
      retryFor: options.retryFor ?? [],
      version: options.version,
    }
    if (resolved.version !== undefined && (typeof resolved.version !== 'string' || resolved.version === '')) {
      throw new TaskDefinitionError(`Task "${name}": \`version\` must be a non-empty string.`)
    }
    const usesKeys = resolved.runningConcurrency === 'keys' || resolved.registrationConcurrency === 'keys'
    if (usesKeys && options.keys === undefined) {
      throw new TaskDefinitionError(
        `Task "${name}" uses the 'keys' concurrency scope but has no \`keys\` option (a function of the arguments or argument positions).`,
      )
    }
    return resolved
  }

  /**
   * Emits an event: stores it (kept `triggers.eventRetentionMs`) and records the `onEvent`
   * conditions it satisfies; their triggers run at the next evaluation pass. Returns the event id.
   * Matching uses the triggers declared in this process, so emit from a process that loads the
   * app module declaring them (the CLI does).
   */
  emitEvent(code: string, payload?: unknown): Promise<string> {
    return this.triggers.emitEvent(code, payload)
  }

  getTask(name: string): AnyTask | undefined {
    return this.tasks.get(name)
  }

  taskNames(): string[] {
    return [...this.tasks.keys()]
  }

  /** A handle on an existing invocation by id. */
  invocation<R = unknown>(id: string, taskName = '(unknown task)'): Invocation<R> {
    return new DistributedInvocation<R>(this, id, taskName)
  }

  /** Stops the runner if it runs, then closes every component. */
  async close(): Promise<void> {
    await this.runner.stop()
    await this.waiter.close()
    const seen = new Set<object>()
    for (const name of COMPONENT_NAMES) {
      const c = this.backend[name]
      if (seen.has(c)) continue
      seen.add(c)
      await c.close()
    }
  }

  /**
   * Removes, now, every finished invocation created and finished more than `olderThanMs` ago —
   * the same sweep runners make from their atomic-service slot when `retention.finishedMs` is
   * set, but to the end of the listing. Children of a running parent and invocations of a
   * running workflow are kept. Returns how many were removed.
   */
  async purgeFinished(olderThanMs: number, now = Date.now()): Promise<number> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0)
      throw new InvalidQueryError('olderThanMs', `expected a number of ms >= 0, got ${olderThanMs}`)
    if (!Number.isFinite(now)) throw new InvalidQueryError('now', `expected a ms epoch, got ${now}`)
    await this.ready()
    const report = await sweepFinished(this, {
      cutoff: now - olderThanMs,
      pageSize: this.config.value<number>('retention.pageSize'),
    })
    return report.removed.length
  }

  /** Removes every stored record of this app from every component. */
  async purge(): Promise<void> {
    await this.ready()
    const b = this.backend
    await Promise.all([
      b.broker.purge(),
      b.orchestrator.purge(),
      b.stateBackend.purge(),
      b.clientDataStore.purge(),
      b.triggerStore.purge(),
    ])
  }
}
