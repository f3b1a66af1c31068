export {
  AppModuleError,
  appModuleOf,
  isNencApp,
  loadApp,
  pickApp,
  resolveAppModulePath,
} from './app-module.js'
export { bindRunner } from './bind-runner.js'
export type { MultiThreadRunnerOptions } from './multi-thread-runner.js'
export { MultiThreadRunner } from './multi-thread-runner.js'
export type { PersistentProcessRunnerOptions } from './persistent-process-runner.js'
export { PersistentProcessRunner } from './persistent-process-runner.js'
export type { ProcessRunnerOptions } from './process-runner.js'
export { ProcessRunner } from './process-runner.js'
export type { ProcessSupervisorOptions } from './process-supervisor.js'
export { ProcessSupervisor } from './process-supervisor.js'
export type { ThreadRunnerOptions, WorkerThreadsOptions } from './thread-runner.js'
export { ThreadRunner } from './thread-runner.js'
