import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { renderStatusSvg } from '../render/status-svg.js'
import { renderStatusText } from '../render/status-text.js'

/** `nenc status render`: the invocation state machine, drawn from core's STATUS_TABLE. */
export function registerStatusRender(status: Command): void {
  status
    .command('render')
    .description('draw the invocation status machine (text table, or SVG with --svg)')
    .option('--svg', 'write an SVG diagram instead of the text table')
    .option('--output <file>', 'write to a file instead of stdout')
    .action((opts: { svg?: boolean; output?: string }) => {
      const out = opts.svg ? renderStatusSvg() : renderStatusText()
      if (opts.output) {
        writeFileSync(opts.output, out)
        process.stderr.write(`nenc: wrote ${opts.output}\n`)
      } else {
        process.stdout.write(out)
      }
    })
}
