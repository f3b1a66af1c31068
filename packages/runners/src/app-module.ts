import { existsSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type Nenc, NencError, RunnerError } from '@nenc/core'
import { isTypeScriptPath, registerTsx } from './tsx-loader.js'

/** The app module could not be found, loaded, or holds no `Nenc` instance. */
export class AppModuleError extends RunnerError {
  readonly appModule: string
  constructor(appModule: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.appModule = appModule
  }
}

/** An absolute file path from a path (relative to `cwd`) or a `file:` URL. */
export function resolveAppModulePath(appModule: string | URL, cwd = process.cwd()): string {
  const text = appModule instanceof URL ? appModule.href : appModule
  if (text.startsWith('file:')) return fileURLToPath(text)
  return isAbsolute(text) ? text : resolve(cwd, text)
}

/** Duck-typed, so an app built against another copy of @nenc/core is still recognised. */
export function isNencApp(value: unknown): value is Nenc {
  if (value === null || typeof value !== 'object') return false
  const v = value as Record<string, unknown>
  return (
    typeof v.appId === 'string' &&
    typeof v.task === 'function' &&
    typeof v.getTask === 'function' &&
    typeof v.backend === 'object' &&
    typeof v.ready === 'function'
  )
}

/** Picks the app: the named export `app`, else the default export, else the only exported `Nenc`. */
export function pickApp(mod: Record<string, unknown>, path: string): Nenc {
  if (isNencApp(mod.app)) return mod.app
  if (isNencApp(mod.default)) return mod.default
  const found = Object.entries(mod).filter(([, v]) => isNencApp(v))
  if (found.length === 1) return found[0]![1] as Nenc
  if (found.length > 1) {
    throw new AppModuleError(
      path,
      `${path} exports several Nenc apps (${found.map(([k]) => k).join(', ')}); export the one to run as \`app\`.`,
    )
  }
  const names = Object.keys(mod)
  throw new AppModuleError(
    path,
    `${path} does not export a Nenc app (exports: ${names.length ? names.join(', ') : 'none'}). ` +
      'Add `export const app = new Nenc({ ... })` (or a default export).',
  )
}

const loaded = new Map<string, Promise<Nenc>>()
const modulePaths = new WeakMap<object, string>()

/**
 * The module path an app was loaded from by {@link loadApp} (what `nenc runner start --app`
 * does), so a process runner built in that module without `appModule` still knows what its
 * children must import.
 */
export function appModuleOf(app: object): string | undefined {
  return modulePaths.get(app)
}

/**
 * Imports an app module and returns its `Nenc` instance (cached per path). TypeScript sources
 * load through tsx; JavaScript loads as is. Errors name the path and what to do.
 */
export function loadApp(appModule: string | URL, cwd?: string): Promise<Nenc> {
  const path = resolveAppModulePath(appModule, cwd)
  let p = loaded.get(path)
  if (!p) {
    p = importApp(path)
    loaded.set(path, p)
    p.catch(() => loaded.delete(path))
  }
  return p
}

async function importApp(path: string): Promise<Nenc> {
  if (!existsSync(path)) {
    throw new AppModuleError(
      path,
      `App module ${path} does not exist; check the --app path (relative to ${process.cwd()}).`,
    )
  }
  if (isTypeScriptPath(path)) await registerTsx(path)
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>
  } catch (err) {
    // nenc's own errors (a runner incompatible with memory components, a bad config value) already say what to do.
    if (err instanceof NencError) throw err
    throw new AppModuleError(path, `App module ${path} failed to load: ${(err as Error)?.message ?? err}`, {
      cause: err,
    })
  }
  const app = pickApp(mod, path)
  modulePaths.set(app, path)
  return app
}
