import { COMPONENT_NAMES, type Nenc } from '@nenc/core'
import { loadApp } from '@nenc/runners'
import { CliError } from './cli-error.js'

/** `--app`, else `NENC_APP`: commands that need the app fail with one clear line without it. */
export function appPathFrom(option: string | undefined): string {
  const path = option ?? process.env.NENC_APP
  if (!path) {
    throw new CliError(
      'No app given: pass --app <path> (the module exporting your Nenc app) or set NENC_APP.',
      2,
    )
  }
  return path
}

/** What a command does with the app, for the in-memory warning (`quiet`: the command warns itself, or reads no state). */
export type AppUse = 'inspect' | 'quiet'

/**
 * Loads the app module (TypeScript through tsx). Errors name the path and what to do. An app on
 * in-memory components gets one warning line on stderr: a CLI process has a memory of its own, so
 * it sees nothing the app's other processes did (a newcomer's `nenc invocation list` on the
 * quickstart app would otherwise just say that nothing matches).
 */
export async function loadCliApp(option: string | undefined, use: AppUse = 'inspect'): Promise<Nenc> {
  const app = await loadApp(appPathFrom(option))
  if (use === 'inspect') warnIfInMemory(app, 'inspect')
  return app
}

/** Writes {@link inMemoryWarning} to stderr when there is one. */
export function warnIfInMemory(app: Nenc, use: 'inspect' | 'run'): void {
  const warning = inMemoryWarning(app, use)
  if (warning) process.stderr.write(`nenc: warning: ${warning}\n`)
}

/** The warning for an app with in-memory components, or null when every component is shared. */
export function inMemoryWarning(app: Nenc, use: 'inspect' | 'run'): string | null {
  const inMemory = COMPONENT_NAMES.filter((name) => app.backend[name].inMemory)
  if (inMemory.length === 0) return null
  const what =
    use === 'run'
      ? 'this runner runs only what its own process routes (the app module itself, its triggers), never calls made by other processes'
      : "this command sees only what this process did, nothing of your app's other processes"
  return (
    `app "${app.appId}" keeps ${inMemory.join(', ')} in this process's memory: ${what}. ` +
    'Share work between processes with Redis, PostgreSQL or MongoDB components.'
  )
}
