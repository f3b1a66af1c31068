import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Nenc } from '@nenc/core'
import { type MonitorOptions, resolveMonitorOptions } from './options.js'
import { createMonitorApp } from './server.js'

export interface RunningMonitor {
  /** `http://host:port` the monitor listens on. */
  url: string
  port: number
  /** Stops listening and ends the live-update subscription. */
  close(): Promise<void>
}

/**
 * Serves the monitor for `app` over its backend. Resolves once listening. Binding anything but
 * loopback without a token is refused with `ConfigError`.
 */
export async function startMonitor(app: Nenc, options: MonitorOptions = {}): Promise<RunningMonitor> {
  const resolved = resolveMonitorOptions(options)
  await app.ready()
  const monitor = createMonitorApp(app, resolved)
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: monitor.hono.fetch, hostname: resolved.host, port: resolved.port }, () =>
      resolve(s),
    )
    s.once('error', reject)
  })
  const port = (server.address() as AddressInfo).port
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      await monitor.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Open server-sent-event streams would hold close() forever.
        if ('closeAllConnections' in server) (server as { closeAllConnections(): void }).closeAllConnections()
      })
    },
  }
}
