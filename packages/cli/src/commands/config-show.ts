import { type BaseRunner, type ConfigRow, NencConfig } from '@nenc/core'
import type { Command } from 'commander'
import { loadCliApp } from '../load-app.js'

type Row = ConfigRow

/** Columns: key, value in force, source, and the exact environment variable that sets the key. */
export function formatConfig(rows: readonly Row[]): string {
  const kw = Math.max(...rows.map((r) => r.key.length))
  const vw = Math.max(...rows.map((r) => JSON.stringify(r.value).length))
  const sw = Math.max(...rows.map((r) => r.source.length))
  return `${rows
    .map(
      (r) => `${r.key.padEnd(kw)}  ${JSON.stringify(r.value).padEnd(vw)}  ${r.source.padEnd(sw)}  ${r.env}`,
    )
    .join('\n')}\n`
}

/** A runner's constructor options that beat config keys (ThreadRunner, process runners). */
export function runnerOverrides(runner: BaseRunner): Record<string, unknown> {
  const o = (runner as { configOverrides?: unknown }).configOverrides
  return o && typeof o === 'object' ? (o as Record<string, unknown>) : {}
}

/**
 * `nenc config show`: every value in force with its source (default, code, file, env, runner
 * constructor) and its environment variable. With `--app` the app's own configuration (code
 * values, task options and its runner's constructor options included); without, what the file
 * and environment alone resolve to. Unknown `NENC__…` variables are reported on stderr.
 */
export function registerConfigShow(config: Command): void {
  config
    .command('show')
    .description('print the resolved configuration with the source of each value')
    .option('--app <path>', 'module exporting the Nenc app (adds its code values and tasks); env NENC_APP')
    .option('--json', 'print JSON instead of text')
    .option('--docs', 'add what each key means')
    .action(async (opts: { app?: string; json?: boolean; docs?: boolean }) => {
      const path = opts.app ?? process.env.NENC_APP
      let rows: Row[]
      if (path) {
        const app = await loadCliApp(path, 'quiet')
        rows = app.config.describe({ overrides: runnerOverrides(app.runner) })
        await app.close()
      } else {
        // Warnings go to stderr so that stdout stays the table (or the JSON).
        rows = new NencConfig({ warn: (message) => process.stderr.write(`warning: ${message}\n`) }).describe()
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
      else if (opts.docs)
        process.stdout.write(
          rows
            .map(
              (r) => `${r.key} = ${JSON.stringify(r.value)}  (${r.source})\n    env ${r.env}\n    ${r.doc}\n`,
            )
            .join(''),
        )
      else process.stdout.write(formatConfig(rows))
    })
}
