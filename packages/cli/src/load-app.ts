import type { Nenc } from '@nenc/core'
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

/** Loads the app module (TypeScript through tsx). Errors name the path and what to do. */
export function loadCliApp(option: string | undefined): Promise<Nenc> {
  return loadApp(appPathFrom(option))
}
