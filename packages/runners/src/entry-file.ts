import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Finds a runtime entry (`process-child`, `worker-thread-entry`) beside this module: the built
 * `.js` in `dist`. Running from sources (this package's tests), the built copy in `../dist`
 * is preferred — it starts in a fraction of the time — and the `.ts` source through tsx is
 * the last resort.
 */
export function entryFile(name: string): { path: string; typescript: boolean } {
  for (const rel of [`./${name}.js`, `../dist/${name}.js`]) {
    const path = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(path)) return { path, typescript: false }
  }
  return { path: fileURLToPath(new URL(`./${name}.ts`, import.meta.url)), typescript: true }
}
