import { createHash } from 'node:crypto'

/** `"name"`: an SQL identifier, quoted. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

/**
 * The NOTIFY channel of one app in one schema: `nenc_<kind>_<hash>`. Hashed because app ids
 * may be longer than an identifier (63 bytes) and hold characters LISTEN would need quoted.
 */
export function channelName(
  schema: string,
  appId: string,
  kind: 'queue' | 'final' | 'waits' | 'progress',
): string {
  const hash = createHash('sha256').update(`${schema}\u0000${appId}`).digest('hex').slice(0, 32)
  return `nenc_${kind[0]}_${hash}`
}

/**
 * An SQL expression that sets `synchronous_commit` for the current (implicit) transaction to
 * the text parameter `param`, or leaves it as it is when the parameter is null. Evaluated once
 * inside a statement, it makes that statement's commit skip the WAL flush; it must sit where the
 * statement surely evaluates it before writing (a one-row CTE joined to the result, or the
 * SELECT that feeds an INSERT).
 */
export const asyncCommit = (param: string): string =>
  `set_config('synchronous_commit', coalesce(${param}::text, current_setting('synchronous_commit')), true)`
