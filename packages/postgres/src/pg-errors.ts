import { BackendError, BackendUnavailableError, NencError } from '@nenc/core'

export const BACKEND = 'postgres'

/** Node socket errors that mean the server cannot be reached. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/**
 * SQLSTATEs that mean the connection (not the statement) failed: class 08 (connection
 * exception), 57P01–57P03 (admin/crash shutdown, cannot connect now), 53300 (too many
 * connections), class 28 (authentication) and 3D000 (no such database).
 */
function isConnectionSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code.startsWith('28') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300' ||
    code === '3D000'
  )
}

/** Messages `pg` and `pg-pool` use for a lost or unusable connection (they carry no code). */
const CONNECTION_MESSAGES = [
  'connection terminated',
  'terminated unexpectedly',
  'connection error',
  'timeout exceeded when trying to connect',
  'client was closed',
  'cannot use a pool after calling end',
  'not queryable',
]

/** True when `err` says the server is unreachable or the connection died. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || isConnectionSqlState(code))) return true
  const message = err.message.toLowerCase()
  if (CONNECTION_MESSAGES.some((m) => message.includes(m))) return true
  // AggregateError from net.connect when every address (IPv4 and IPv6) refused.
  if (err instanceof AggregateError) return err.errors.some(isConnectionError)
  return false
}

/** SQLSTATEs after which the whole statement rolled back and may simply run again. */
export function isRetriableConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === '40P01' || code === '40001'
}

/**
 * Translates a driver error at the boundary: connection problems become
 * `BackendUnavailableError`, every other failure (SQL error, statement timeout) `BackendError`;
 * nenc's own errors pass through. The driver error is always the `cause`.
 */
export function translatePgError(err: unknown, what: string): NencError {
  if (err instanceof NencError) return err
  const message = err instanceof Error ? err.message : String(err)
  const code = (err as { code?: unknown } | null)?.code
  const detail = typeof code === 'string' ? `${message} (${code})` : message
  if (isConnectionError(err))
    return new BackendUnavailableError(BACKEND, `${what}: ${detail}`, { cause: err })
  return new BackendError(BACKEND, `${what} failed: ${detail}`, { cause: err })
}
