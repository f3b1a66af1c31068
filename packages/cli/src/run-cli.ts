import { createRequire } from 'node:module'
import { CliError, reportError } from './cli-error.js'
import { createProgram } from './program.js'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

/** Runs `nenc` with `argv` (as `process.argv`); resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = createProgram(version)
  try {
    await program.parseAsync([...argv])
    return 0
  } catch (err) {
    // commander already printed its own usage errors and help; usage errors exit 2.
    if (err && typeof err === 'object' && 'exitCode' in err && !(err instanceof CliError) && 'code' in err) {
      const code = (err as { code: string }).code
      return code.startsWith('commander.help') || code === 'commander.version' ? 0 : 2
    }
    return reportError(err)
  }
}
