import type { NencOptions } from '@nenc/core'

type LogFn = (objOrMsg: unknown, msg?: string) => void
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const

/**
 * A pino-shaped logger writing warnings and errors to stderr. nenc's default pino logger writes
 * to stdout, which must carry nothing but result lines, and pino is not a bench dependency.
 */
export function stderrLogger(
  name: string,
  minLevel: (typeof LEVELS)[number] = 'warn',
): NencOptions['logger'] {
  const min = LEVELS.indexOf(minLevel)
  const make = (bindings: Record<string, unknown>): Record<string, unknown> => {
    const logger: Record<string, unknown> = {
      level: minLevel,
      child: (b: object) => make({ ...bindings, ...b }),
    }
    LEVELS.forEach((level, i) => {
      const fn: LogFn =
        i < min
          ? () => {}
          : (objOrMsg, msg) => {
              const fields = typeof objOrMsg === 'object' && objOrMsg !== null ? objOrMsg : {}
              const text = typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '')
              const err = (fields as { err?: unknown }).err
              const detail = err instanceof Error ? ` (${err.name}: ${err.message})` : ''
              process.stderr.write(`[${name} ${level}] ${text}${detail}\n`)
            }
      logger[level] = fn
    })
    logger.isLevelEnabled = (level: string) => LEVELS.indexOf(level as (typeof LEVELS)[number]) >= min
    return logger
  }
  return make({}) as unknown as NencOptions['logger']
}
