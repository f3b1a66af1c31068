import { ConfigError } from '@nenc/core'
import { startMonitor, TOKEN_ENV } from '@nenc/monitor'
import type { Command } from 'commander'
import { CliError } from '../cli-error.js'
import { loadCliApp } from '../load-app.js'

interface MonitorFlags {
  app?: string
  host: string
  port: string
  token?: string
  readOnly?: boolean
  mask?: string
}

/**
 * `nenc monitor`: serves the web monitor over the app's backend until SIGINT/SIGTERM. Binding
 * anything but loopback needs a token (`--token` or NENC__MONITOR__TOKEN).
 */
export function registerMonitor(program: Command): void {
  program
    .command('monitor')
    .description('serve the web monitor (invocations, runners, actions) for an app')
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--host <host>', 'interface to bind (non-loopback needs a token)', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free one)', '8000')
    .option('--token <token>', `token every request must carry (at least 16 characters); env ${TOKEN_ENV}`)
    .option('--read-only', 'hide the actions and refuse them')
    .option('--mask <tasks>', 'comma-separated task names whose arguments and results are never shown')
    .action(async (opts: MonitorFlags) => {
      const port = Number(opts.port)
      if (!/^\d+$/.test(opts.port))
        throw new CliError(`--port ${JSON.stringify(opts.port)} is not a port number.`, 2)
      const app = await loadCliApp(opts.app)
      let monitor: Awaited<ReturnType<typeof startMonitor>>
      try {
        monitor = await startMonitor(app, {
          host: opts.host,
          port,
          token: opts.token,
          readOnly: opts.readOnly,
          mask: (opts.mask ?? '')
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== ''),
        })
      } catch (err) {
        await app.close()
        if (err instanceof ConfigError) throw new CliError(err.message, 2)
        throw err
      }
      const stop = (signal: NodeJS.Signals) => {
        process.stderr.write(`nenc: ${signal}: stopping the monitor\n`)
        monitor
          .close()
          .then(() => app.close())
          .then(
            () => process.exit(0),
            () => process.exit(1),
          )
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
      process.stderr.write(
        `nenc: monitor of app "${app.appId}" on ${monitor.url}${opts.readOnly ? ' (read-only)' : ''}; stop with Ctrl-C\n`,
      )
      process.send?.({ type: 'monitor', url: monitor.url, port: monitor.port })
      await new Promise<never>(() => {})
    })
}
