import { type Logger, pino } from 'pino'

/**
 * pino: structured JSON logs, the fastest mainstream Node logger, and child loggers carry the
 * invocation id without formatting cost when the level is off. Level from `NENC_LOG_LEVEL`.
 */
export function createLogger(appId: string): Logger {
  return pino({ name: `nenc:${appId}`, level: process.env.NENC_LOG_LEVEL ?? 'warn' })
}

export type { Logger }
