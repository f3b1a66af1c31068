import { Command } from 'commander'
import { registerConfigShow } from './commands/config-show.js'
import { registerEventEmit } from './commands/event-emit.js'
import { registerInvocationList } from './commands/invocation-list.js'
import { registerInvocationShow } from './commands/invocation-show.js'
import { registerMonitor } from './commands/monitor.js'
import { registerQueue } from './commands/queue.js'
import { registerRunnerStart } from './commands/runner-start.js'
import { registerRunners } from './commands/runners.js'
import { registerStatusRender } from './commands/status-render.js'
import { registerTriggerList } from './commands/trigger-list.js'
import { registerWorkflowShow } from './commands/workflow-show.js'

/** The `nenc` command tree; each command lives in its own file under `commands/`. */
export function createProgram(version: string): Command {
  const program = new Command('nenc')
    .description('nenc: run and inspect distributed task apps')
    .version(version)
    .showHelpAfterError()
    // Before the subcommands are added, so they inherit it: runCli maps errors to exit codes.
    .exitOverride()
  registerRunnerStart(program.command('runner').description('run tasks'))
  registerStatusRender(program.command('status').description('the invocation status machine'))
  const invocation = program.command('invocation').description('inspect invocations')
  registerInvocationShow(invocation)
  registerInvocationList(invocation)
  registerRunners(program)
  registerConfigShow(program.command('config').description('configuration'))
  registerMonitor(program)
  registerTriggerList(program.command('trigger').description('inspect triggers'))
  registerEventEmit(program.command('event').description('emit events'))
  registerQueue(program)
  registerWorkflowShow(program.command('workflow').description('inspect workflows'))
  return program
}
