import { ConfigError } from '@nenc/core'

export interface MonitorOptions {
  /** Interface to bind. @default '127.0.0.1' */
  host?: string
  /** Port (0 = any free one). @default 8000 */
  port?: number
  /**
   * Required on every request when set; required to bind anything but loopback. Falls back to
   * the environment variable `NENC__MONITOR__TOKEN`.
   */
  token?: string
  /** Hides the actions and refuses their POSTs. @default false */
  readOnly?: boolean
  /**
   * Task names whose arguments, results and error messages the monitor never shows (nor matches
   * with the argument filter). Re-runs still use them. @default []
   */
  mask?: readonly string[]
  /** Hours the overview covers. @default 24 */
  overviewHours?: number
  /** Where action log lines go. @default one JSON line on stderr */
  log?: (line: string) => void
  /** Environment to read `NENC__MONITOR__TOKEN` from. @default process.env */
  env?: Record<string, string | undefined>
}

export interface ResolvedMonitorOptions {
  host: string
  port: number
  token: string | null
  readOnly: boolean
  mask: ReadonlySet<string>
  overviewHours: number
  log: (line: string) => void
}

export const TOKEN_ENV = 'NENC__MONITOR__TOKEN'

/** True for names and addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h)
}

/**
 * Checks and completes the options. Binding another interface than loopback without a token is
 * refused (`ConfigError`): anyone who can reach the port could otherwise read arguments and
 * results and re-run tasks.
 */
export function resolveMonitorOptions(o: MonitorOptions = {}): ResolvedMonitorOptions {
  const env = o.env ?? process.env
  const host = o.host ?? '127.0.0.1'
  const port = o.port ?? 8000
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError('monitor.port', 'monitor options', `${port} is not a port (0..65535)`)
  }
  const fromEnv = env[TOKEN_ENV]
  const token = o.token ?? (fromEnv === undefined || fromEnv === '' ? null : fromEnv)
  if (token !== null && token.length < 16) {
    throw new ConfigError('monitor.token', o.token ? '--token' : TOKEN_ENV, 'use at least 16 characters')
  }
  if (!isLoopback(host) && token === null) {
    throw new ConfigError(
      'monitor.host',
      'monitor options',
      `"${host}" is not a loopback address: give a token (--token or ${TOKEN_ENV}) to bind it`,
    )
  }
  const overviewHours = o.overviewHours ?? 24
  if (!Number.isInteger(overviewHours) || overviewHours < 1 || overviewHours > 24 * 14) {
    throw new ConfigError('monitor.overviewHours', 'monitor options', `${overviewHours} is not 1..336`)
  }
  return {
    host,
    port,
    token,
    readOnly: o.readOnly ?? false,
    mask: new Set(o.mask ?? []),
    overviewHours,
    log: o.log ?? ((line) => process.stderr.write(`${line}\n`)),
  }
}
