import { resolveAppModulePath } from '@nenc/runners'
import type { Command } from 'commander'
import { appPathFrom, loadCliApp, warnIfInMemory } from '../load-app.js'
import { chooseRunner, RUNNER_NAMES, type RunnerFlags } from '../runner-factory.js'
import { parseCount } from './parse.js'

interface StartOptions extends RunnerFlags {
  app?: string
  runner?: string
}

/**
 * `nenc runner start`: runs the app's tasks until SIGINT/SIGTERM, then stops gracefully —
 * running invocations are killed and rerouted while this runner still owns them, so another
 * runner picks them up at once. A second signal exits immediately.
 */
export function registerRunnerStart(runner: Command): void {
  runner
    .command('start')
    .description("run the app's tasks until SIGINT/SIGTERM, then stop gracefully")
    .option('--app <path>', 'module exporting the Nenc app (.ts through tsx, or .js); env NENC_APP')
    .option(
      '--runner <kind>',
      `runner to use: ${RUNNER_NAMES.join(' | ')} (default: the app's own, else thread)`,
    )
    .option(
      '--max-threads <n>',
      'thread: concurrent invocations; multi-thread: per child process',
      parseCount,
    )
    .option(
      '--processes <n>',
      'process: max children; persistent-process: pool size; multi-thread: max children',
      parseCount,
    )
    .option(
      '--prefetch <n>',
      'thread: invocations claimed ahead of free slots, held started in a local queue (short tasks)',
      parseCount,
    )
    .option('--min-processes <n>', 'multi-thread: children always kept', parseCount)
    .option('--warm-processes <n>', 'process: children forked ahead of demand', parseCount)
    .option(
      '--worker-threads <tasks>',
      "thread: run these tasks' functions in worker threads (comma list or 'all')",
    )
    .action(async (opts: StartOptions) => {
      const appPath = resolveAppModulePath(appPathFrom(opts.app))
      const app = await loadCliApp(appPath, 'quiet')
      const { app: _a, runner: kind, ...flags } = opts
      const runner = chooseRunner(app, appPath, kind, flags)
      warnIfInMemory(app, 'run') // after chooseRunner: a refused pairing says only why
      let stopping: Promise<void> | null = null
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          process.stderr.write(`nenc: ${signal} again; exiting now (recovery reroutes what still runs)\n`)
          process.exit(130)
        }
        process.stderr.write(
          `nenc: ${signal}: stopping ${runner.runnerClass}; running invocations get runner.stopGraceMs to finish, then are rerouted\n`,
        )
        stopping = (async () => {
          await runner.stop()
          await app.close()
        })()
        stopping.then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`nenc: stop failed: ${(err as Error)?.message ?? err}\n`)
            process.exit(1)
          },
        )
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
      await runner.start()
      process.stderr.write(
        `nenc: ${runner.runnerClass} ${runner.runnerId} runs app "${app.appId}" ` +
          `(${runner.maxParallelSlots} slots); stop with Ctrl-C or SIGTERM\n`,
      )
      // Tests and supervisors that forked us learn the runner id without parsing output.
      process.send?.({ type: 'running', runnerId: runner.runnerId, pid: process.pid })
      // Runs until a signal handler exits the process, whatever the backend holds open.
      setInterval(() => {}, 1 << 30)
      await new Promise<never>(() => {})
    })
}
