import { NencConfig } from '@nenc/core'
import type { Command } from 'commander'
import { loadCliApp } from '../load-app.js'

type Row = ReturnType<NencConfig['describe']>[number]

export function formatConfig(rows: readonly Row[]): string {
  const kw = Math.max(...rows.map((r) => r.key.length))
  const vw = Math.max(...rows.map((r) => JSON.stringify(r.value).length))
  return `${rows
    .map((r) => `${r.key.padEnd(kw)}  ${JSON.stringify(r.value).padEnd(vw)}  ${r.source}`)
    .join('\n')}\n`
}

/**
 * `nenc config show`: every resolved value with its source (default, code, file, env). With
 * `--app` the app's own configuration (code values and task options included); without, what
 * the file and environment alone resolve to.
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
        const app = await loadCliApp(path)
        rows = app.config.describe()
        await app.close()
      } else {
        rows = new NencConfig().describe()
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
      else if (opts.docs)
        process.stdout.write(
          rows.map((r) => `${r.key} = ${JSON.stringify(r.value)}  (${r.source})\n    ${r.doc}\n`).join(''),
        )
      else process.stdout.write(formatConfig(rows))
    })
}
