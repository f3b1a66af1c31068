import { createRequire } from 'node:module'
import { pino } from 'pino'
import { ConfigError } from './errors.js'

/** One logging method with pino's calling convention: fields first, then the message. */
export interface LogFn {
  (fields: object, message?: string): void
  (message: string): void
}

/**
 * What nenc logs through: pino's calling convention (`logger.warn({ invocationId }, 'msg')`) and
 * `child(bindings)` for a logger whose every line carries those fields. A pino logger is one; any
 * other logger fits behind a small adapter (docs/operations.md#logs). Give it as
 * `new Nenc({ logger })`.
 */
export interface Logger {
  child(bindings: Record<string, unknown>): Logger
  error: LogFn
  warn: LogFn
  info: LogFn
  debug: LogFn
}

export type LogFormat = 'json' | 'pretty'

/**
 * `NENC_LOG_FORMAT` (`json` or `pretty`), else pretty when the destination is a terminal and
 * JSON otherwise — a person reads a terminal, a log collector reads a pipe or a file.
 */
export function logFormat(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): LogFormat {
  const asked = env.NENC_LOG_FORMAT
  if (asked === undefined || asked === '') return isTTY ? 'pretty' : 'json'
  if (asked === 'json' || asked === 'pretty') return asked
  throw new ConfigError(
    'NENC_LOG_FORMAT',
    'env NENC_LOG_FORMAT',
    `expected "json" or "pretty", got ${JSON.stringify(asked)}`,
  )
}

export interface CreateLoggerOptions {
  /** Write to stderr instead of stdout. */
  stderr?: boolean
  /** Overrides `NENC_LOG_FORMAT` and the terminal check. */
  format?: LogFormat
  /** Write here instead of fd 1 / 2 (tests, embedding). */
  destination?: NodeJS.WritableStream
}

/**
 * The app's default logger: pino — structured JSON, the fastest mainstream Node logger, and child
 * loggers carry the invocation id without formatting cost when the level is off. Level from
 * `NENC_LOG_LEVEL` (default `warn`). In pretty format lines go through pino-pretty, loaded only
 * then and written synchronously (no worker thread, nothing lost on exit). `stderr`: write there
 * instead of stdout (configuration warnings, which must not mix with a command's output such as
 * `nenc config show --json`).
 */
export function createLogger(appId: string, options: CreateLoggerOptions = {}): Logger {
  const opts = { name: `nenc:${appId}`, level: process.env.NENC_LOG_LEVEL ?? 'warn' }
  const fd = options.stderr ? 2 : 1
  const std = fd === 2 ? process.stderr : process.stdout
  const format = options.format ?? logFormat(!options.destination && std.isTTY === true)
  if (format === 'pretty') {
    const pretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => NodeJS.WritableStream
    return pino(opts, pretty({ destination: options.destination ?? fd, sync: true, ignore: 'pid,hostname' }))
  }
  if (options.destination) return pino(opts, options.destination)
  return fd === 2 ? pino(opts, pino.destination({ fd: 2, sync: true })) : pino(opts)
}
