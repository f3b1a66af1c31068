import { BackendError, BackendUnavailableError, ConfigError, NencError } from '@nenc/core'
import {
  type MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoParseError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type WriteError,
} from 'mongodb'

export const BACKEND = 'mongodb'

/** Server error codes that mean "no usable primary right now", not "this operation is wrong". */
export const UNAVAILABLE_SERVER_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
])

export const DUPLICATE_KEY = 11000

/** True when the error says the server cannot be reached (as opposed to rejecting the request). */
export function isUnavailableError(err: unknown): boolean {
  if (
    err instanceof MongoNetworkError || // includes MongoNetworkTimeoutError and MongoPoolClearedError
    err instanceof MongoServerSelectionError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoServerClosedError ||
    // Added in driver 7; matched by name so driver 6 (which lacks the class) still loads this module.
    (err instanceof MongoError && err.name === 'MongoClientClosedError')
  ) {
    return true
  }
  return (
    err instanceof MongoServerError && typeof err.code === 'number' && UNAVAILABLE_SERVER_CODES.has(err.code)
  )
}

/**
 * Maps a driver error to nenc's typed errors at the component boundary: the server cannot be
 * reached → {@link BackendUnavailableError}; the server (or the driver) rejected the operation,
 * including timeouts → {@link BackendError}; a bad connection string → {@link ConfigError}.
 * nenc's own errors and non-driver errors pass through unchanged. The driver error is the `cause`.
 */
export function translateError(err: unknown, action: string): unknown {
  if (err instanceof NencError) return err
  if (err instanceof MongoParseError) {
    return new ConfigError('url', 'MongoBackendOptions', `the MongoDB driver cannot parse it: ${err.message}`)
  }
  if (isUnavailableError(err)) {
    const e = err as MongoError
    return new BackendUnavailableError(
      BACKEND,
      `${action}: ${e.message}. Check that the MongoDB server in the connection string is running and reachable.`,
      { cause: err },
    )
  }
  if (err instanceof MongoError) {
    const code = err.code !== undefined ? ` (code ${String(err.code)})` : ''
    return new BackendError(BACKEND, `${action} failed${code}: ${err.message}`, { cause: err })
  }
  return err
}

/** Runs `fn` and rethrows its failure through {@link translateError}. */
export async function guard<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw translateError(err, action)
  }
}

/** The write errors of a bulk error as an array (the driver returns one or many). */
export function writeErrorsOf(err: MongoBulkWriteError): WriteError[] {
  const w = err.writeErrors
  if (!w) return []
  return Array.isArray(w) ? [...w] : [w as WriteError]
}

/**
 * The index a duplicate-key error names, or null when it is another error. Uses the server's
 * `keyPattern` when present and the index name in the message (`… index: <name> dup key …`).
 */
export function duplicateKeyIndex(err: { code?: unknown; errmsg?: string; message?: string }): string | null {
  if (err.code !== DUPLICATE_KEY) return null
  const text = err.errmsg ?? err.message ?? ''
  const m = /index: (\S+) dup key/.exec(text)
  return m?.[1] ?? ''
}
