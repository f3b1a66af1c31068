export type { ThreadRunnerOptions } from './thread-runner.js'
export { ThreadRunner } from './thread-runner.js'
