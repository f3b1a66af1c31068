import { type BaseRunner, COMPONENT_NAMES, type NencRuntime, RunnerIncompatibleError } from '@nenc/core'

/**
 * Binds a runner other than the app's own to the app, with the same memCompatible check the
 * app applies at construction (a process runner cannot see in-memory components). The CLI uses
 * it for `--runner`; process runners use it in their children, where the app's configured
 * runner must not start. The app keeps its own `app.runner`, which simply stays idle.
 */
export function bindRunner<R extends BaseRunner>(app: NencRuntime, runner: R): R {
  if (!runner.memCompatible) {
    for (const name of COMPONENT_NAMES) {
      const component = app.backend[name]
      if (component.inMemory) {
        throw new RunnerIncompatibleError(runner.runnerClass, `${name} (${component.backendName})`)
      }
    }
  }
  runner.bind(app)
  return runner
}
