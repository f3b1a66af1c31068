import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { RunnerError } from '@nenc/core'

const TS_EXTENSIONS = /\.(ts|mts|cts|tsx)$/

/** True when the path names TypeScript source, which Node 20 cannot import without a loader. */
export const isTypeScriptPath = (path: string): boolean => TS_EXTENSIONS.test(path)

/**
 * The file URL of tsx's ESM loader (`--import <url>`), resolved first from the app module's
 * folder (the user's own tsx) and then from this package. tsx is an optional peer dependency:
 * only TypeScript app modules need it.
 */
export function resolveTsxLoader(fromPath?: string): string {
  return resolveTsx('.', fromPath)
}

/** The file URL of tsx's ESM register API (`tsx/esm/api`, its `import` entry). */
export function resolveTsxApi(fromPath?: string): string {
  return resolveTsx('./esm/api', fromPath)
}

/**
 * Resolves an export of tsx through its package.json `exports`, taking the ESM (`import`)
 * entry: `createRequire().resolve()` would pick the CommonJS build, whose register() cannot
 * find its ESM hooks when imported this way.
 */
function resolveTsx(subpath: '.' | './esm/api', fromPath?: string): string {
  const bases = [fromPath ? `${dirname(fromPath)}/` : null, import.meta.url].filter(
    (b): b is string => b !== null,
  )
  for (const base of bases) {
    let pkgPath: string
    try {
      pkgPath = createRequire(base).resolve('tsx/package.json')
    } catch {
      continue
    }
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown> }
    const entry = pkg.exports?.[subpath]
    const file =
      typeof entry === 'string'
        ? entry
        : ((entry as { import?: { default?: string } | string } | undefined)?.import as { default?: string })
            ?.default
    if (typeof file === 'string') return pathToFileURL(join(dirname(pkgPath), file)).href
  }
  throw new RunnerError(
    `Loading the TypeScript app module ${fromPath ?? ''} needs tsx, which is not installed. ` +
      'Install it (`npm i -D tsx`) or point --app at the built JavaScript file.',
  )
}

let registered: Promise<void> | null = null

/** Registers tsx's ESM hooks in this process (once), so `import()` of `.ts` files works. */
export function registerTsx(fromPath?: string): Promise<void> {
  registered ??= (async () => {
    const api = resolveTsxApi(fromPath)
    const mod = (await import(api)) as { register: () => unknown }
    mod.register()
  })().catch((err) => {
    registered = null
    throw err
  })
  return registered
}
