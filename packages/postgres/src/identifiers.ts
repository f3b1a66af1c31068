import { createHash } from 'node:crypto'

/** `"name"`: an SQL identifier, quoted. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

/**
 * The NOTIFY channel of one app in one schema: `nenc_<kind>_<hash>`. Hashed because app ids
 * may be longer than an identifier (63 bytes) and hold characters LISTEN would need quoted.
 */
export function channelName(schema: string, appId: string, kind: 'queue' | 'final'): string {
  const hash = createHash('sha256').update(`${schema}\u0000${appId}`).digest('hex').slice(0, 32)
  return `nenc_${kind === 'queue' ? 'q' : 'f'}_${hash}`
}
