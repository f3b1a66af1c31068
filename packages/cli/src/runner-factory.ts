import type { BaseRunner, Nenc } from '@nenc/core'
import {
  bindRunner,
  MultiThreadRunner,
  PersistentProcessRunner,
  ProcessRunner,
  ThreadRunner,
} from '@nenc/runners'
import { CliError } from './cli-error.js'

export const RUNNER_NAMES = ['thread', 'process', 'persistent-process', 'multi-thread'] as const
export type RunnerName = (typeof RUNNER_NAMES)[number]

/** What `nenc runner start` accepts besides `--runner`. */
export interface RunnerFlags {
  maxThreads?: number
  prefetch?: number
  processes?: number
  minProcesses?: number
  warmProcesses?: number
  workerThreads?: string
}

function build(name: RunnerName, flags: RunnerFlags, appModule: string): BaseRunner {
  switch (name) {
    case 'thread': {
      const tasks = flags.workerThreads
      return new ThreadRunner({
        maxThreads: flags.maxThreads,
        prefetch: flags.prefetch,
        workerThreads: tasks
          ? { appModule, tasks: tasks === 'all' ? 'all' : tasks.split(',').map((t) => t.trim()) }
          : undefined,
      })
    }
    case 'process':
      return new ProcessRunner({
        appModule,
        maxProcesses: flags.processes,
        warmProcesses: flags.warmProcesses,
      })
    case 'persistent-process':
      return new PersistentProcessRunner({ appModule, numProcesses: flags.processes })
    case 'multi-thread':
      return new MultiThreadRunner({
        appModule,
        maxProcesses: flags.processes,
        minProcesses: flags.minProcesses,
        maxThreads: flags.maxThreads,
      })
  }
}

/**
 * The runner `nenc runner start` runs: the one named by `--runner`, bound to the app with the
 * memCompatible check; else the app's own runner when it can run tasks (a fresh one of its kind
 * when flags are given); else a ThreadRunner.
 */
export function chooseRunner(
  app: Nenc,
  appModule: string,
  name: string | undefined,
  flags: RunnerFlags,
): BaseRunner {
  if (name !== undefined) {
    if (!RUNNER_NAMES.includes(name as RunnerName)) {
      throw new CliError(`Unknown runner "${name}"; choose one of: ${RUNNER_NAMES.join(', ')}.`, 2)
    }
    return bindRunner(app, build(name as RunnerName, flags, appModule))
  }
  const own = CLASS_TO_NAME[app.runner.runnerClass]
  const hasFlags = Object.values(flags).some((v) => v !== undefined)
  // The app's own runner as configured in code; with flags, a fresh one of the same kind.
  if (own && !hasFlags) return app.runner
  return bindRunner(app, build(own ?? 'thread', flags, appModule))
}

const CLASS_TO_NAME: Record<string, RunnerName> = {
  ThreadRunner: 'thread',
  ProcessRunner: 'process',
  PersistentProcessRunner: 'persistent-process',
  MultiThreadRunner: 'multi-thread',
}
