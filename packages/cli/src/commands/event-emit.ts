import type { Command } from 'commander'
import { CliError } from '../cli-error.js'
import { loadCliApp } from '../load-app.js'

/** The payload argument: JSON text, or null when omitted. */
export function parsePayload(text: string | undefined): unknown {
  if (text === undefined) return null
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new CliError(`The event payload is not valid JSON (${(err as Error).message}): ${text}`, 2)
  }
}

/**
 * `nenc event emit <code> [json]`: emits an event through the app, which records the event
 * conditions it satisfies; prints the event id.
 */
export function registerEventEmit(event: Command): void {
  event
    .command('emit <code> [json]')
    .description('emit an event (payload as JSON); prints its id')
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--json', 'print {"eventId": …} instead of the bare id')
    .action(async (code: string, json: string | undefined, opts: { app?: string; json?: boolean }) => {
      const payload = parsePayload(json)
      const app = await loadCliApp(opts.app)
      try {
        const id = await app.emitEvent(code, payload)
        process.stdout.write(opts.json ? `${JSON.stringify({ eventId: id })}\n` : `${id}\n`)
      } finally {
        await app.close()
      }
    })
}
