import { type Logger, pino } from 'pino'

/**
 * pino: structured JSON logs, the fastest mainstream Node logger, and child loggers carry the
 * invocation id without formatting cost when the level is off. Level from `NENC_LOG_LEVEL`.
 * `stderr`: write there instead of stdout (configuration warnings, which must not mix with a
 * command's output such as `nenc config show --json`).
 */
export function createLogger(appId: string, options: { stderr?: boolean } = {}): Logger {
  const opts = { name: `nenc:${appId}`, level: process.env.NENC_LOG_LEVEL ?? 'warn' }
  return options.stderr ? pino(opts, pino.destination({ fd: 2, sync: true })) : pino(opts)
}

export type { Logger }
