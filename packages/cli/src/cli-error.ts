import { NencError } from '@nenc/core'

/** An error the user can act on; printed as one line, without a stack. */
export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 1) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/**
 * Prints an error for a person: nenc's own errors and {@link CliError} already say what to do,
 * so they print as `nenc: <message>`; anything else is a bug and keeps its stack.
 * @returns the process exit code
 */
export function reportError(
  err: unknown,
  write: (line: string) => void = (l) => process.stderr.write(l),
): number {
  if (err instanceof CliError) {
    write(`nenc: ${err.message}\n`)
    return err.exitCode
  }
  if (err instanceof NencError) {
    write(`nenc: ${err.message}\n`)
    if (err.cause instanceof Error && err.code === 'RUNNER') write(`  cause: ${err.cause.message}\n`)
    return 1
  }
  write(`nenc: unexpected error\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  return 70
}
