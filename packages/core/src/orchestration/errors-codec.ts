import { type RemoteErrorInfo, TaskError } from '../errors.js'

/**
 * Describes a thrown value as plain data for storage (name, message, stack, code, cause chain).
 * Another invocation's failure (TaskError) is stored as that invocation's error, so callers see
 * the original name and message, with `from` naming the invocation it came from.
 */
export function describeError(err: unknown, depth = 0): RemoteErrorInfo {
  if (err instanceof TaskError)
    return { ...err.remote, from: { invocationId: err.invocationId, taskName: err.taskName } }
  if (err instanceof Error) {
    const info: RemoteErrorInfo = { name: err.name, message: err.message }
    if (err.stack) info.stack = err.stack
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') info.code = code
    if (err.cause !== undefined && depth < 5) info.cause = describeError(err.cause, depth + 1)
    return info
  }
  return { name: 'NonError', message: typeof err === 'string' ? err : safeString(err) }
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

export const encodeError = (err: unknown): string => JSON.stringify(describeError(err))

export function decodeError(text: string): RemoteErrorInfo {
  try {
    const v = JSON.parse(text) as RemoteErrorInfo
    if (typeof v?.name === 'string' && typeof v.message === 'string') return v
  } catch {
    // fall through: a foreign value is reported as such rather than crashing the caller
  }
  return { name: 'CorruptError', message: `stored error is not valid: ${text.slice(0, 200)}` }
}
