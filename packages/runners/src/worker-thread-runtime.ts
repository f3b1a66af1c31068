import { type AnyTask, currentContext, type NencRuntime, RetryError, TaskTimeoutError } from '@nenc/core'
import type { WorkerErrorInfo, WorkerThreadPool } from './worker-thread-pool.js'

const isErrorInfo = (e: unknown): e is WorkerErrorInfo =>
  typeof e === 'object' &&
  e !== null &&
  !(e instanceof Error) &&
  typeof (e as WorkerErrorInfo).name === 'string'

/**
 * Rebuilds an error thrown in a worker thread on the main thread. Classes cannot cross the
 * boundary, so an error whose name matches `RetryError`, `TaskTimeoutError` or a class in the
 * task's `retryFor` becomes an instance of that class (the retry policy tests `instanceof`).
 */
export function rebuildWorkerError(info: WorkerErrorInfo, task: AnyTask): Error {
  const classes = [RetryError, TaskTimeoutError, ...task.options.retryFor]
  const cls = classes.find((c) => c.name === info.name)
  const err: Error = cls ? Object.create(cls.prototype) : new Error(info.message)
  Object.defineProperties(err, {
    name: { value: info.name, writable: true, configurable: true },
    message: { value: info.message, writable: true, configurable: true },
    stack: { value: info.stack, writable: true, configurable: true },
  })
  if (info.code) Object.defineProperty(err, 'code', { value: info.code, writable: true, configurable: true })
  return err
}

/**
 * The app as ThreadRunner's executor sees it when `workerThreads` is on: identical, except that
 * the functions of offloaded tasks run in the pool. Statuses, results, waits and components stay
 * on the main thread, so the runner stays memCompatible.
 */
export function workerThreadRuntime(
  app: NencRuntime,
  pool: WorkerThreadPool,
  offloaded: (taskName: string) => boolean,
): NencRuntime {
  const wrapped = new Map<string, AnyTask>()
  const wrap = (task: AnyTask): AnyTask => {
    let w = wrapped.get(task.taskName)
    if (w) return w
    const fn = (...args: unknown[]) =>
      pool.run(task.taskName, args, currentContext()?.signal).catch((err: unknown) => {
        throw isErrorInfo(err) ? rebuildWorkerError(err, task) : err
      })
    w = Object.assign((...args: unknown[]) => task(...args), {
      taskName: task.taskName,
      id: task.id,
      fn,
      options: task.options,
      keySelector: task.keySelector,
      parallelize: task.parallelize,
    }) as AnyTask
    wrapped.set(task.taskName, w)
    return w
  }
  return {
    get appId() {
      return app.appId
    },
    get backend() {
      return app.backend
    },
    get serializer() {
      return app.serializer
    },
    get config() {
      return app.config
    },
    get logger() {
      return app.logger
    },
    get waiter() {
      return app.waiter
    },
    get largeValues() {
      return app.largeValues
    },
    // Trigger conditions watching a task are matched where its end is written: here, on the main thread.
    get triggers() {
      return app.triggers
    },
    get runner() {
      return app.runner
    },
    ready: () => app.ready(),
    getTask(name: string) {
      const task = app.getTask(name)
      return task && offloaded(name) ? wrap(task) : task
    },
    taskNames: () => app.taskNames(),
  }
}
