import type { AnyBulkWriteOperation } from 'mongodb'
import { corrupt, isNum, isStr } from '../documents.js'
import { chunkId } from '../names.js'

/**
 * Largest UTF-8 size of one stored string: under BSON's 16 MiB document limit with room for the
 * rest of the document.
 */
export const MAX_CHUNK_BYTES = 15 * 1024 * 1024

/**
 * A value (`<prefix>client_data`): inline in `v`, or split into `chunks` documents
 * `<key>#chunk<i>` holding `v` each, when it is larger than {@link MAX_CHUNK_BYTES}.
 */
export interface ClientDataDoc {
  _id: string
  v?: string
  chunks?: number
  of?: string
  i?: number
}

/**
 * Splits a string into parts of at most `maxBytes` UTF-8 bytes, never between the two halves of
 * a surrogate pair (a lone half would not survive UTF-8 encoding).
 */
export function splitValue(value: string, maxBytes = MAX_CHUNK_BYTES): string[] {
  if (Buffer.byteLength(value) <= maxBytes) return [value]
  // One UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 units).
  const maxUnits = Math.max(2, Math.floor(maxBytes / 3))
  const parts: string[] = []
  let start = 0
  while (start < value.length) {
    let end = Math.min(start + maxUnits, value.length)
    const last = value.charCodeAt(end - 1)
    if (end < value.length && last >= 0xd800 && last <= 0xdbff) end--
    parts.push(value.slice(start, end))
    start = end
  }
  return parts
}

/**
 * The writes that store `items`, in order: chunks before the document that points at them, so
 * a reader never finds a head whose chunks are missing. Replaces make a repeat idempotent.
 */
export function clientDataWrites(
  items: readonly { key: string; value: string }[],
  maxBytes = MAX_CHUNK_BYTES,
): AnyBulkWriteOperation<ClientDataDoc>[] {
  const ops: AnyBulkWriteOperation<ClientDataDoc>[] = []
  for (const { key, value } of items) {
    const parts = splitValue(value, maxBytes)
    if (parts.length === 1) {
      ops.push({ replaceOne: { filter: { _id: key }, replacement: { v: value }, upsert: true } })
      continue
    }
    parts.forEach((v, i) => {
      ops.push({
        replaceOne: { filter: { _id: chunkId(key, i) }, replacement: { of: key, i, v }, upsert: true },
      })
    })
    ops.push({ replaceOne: { filter: { _id: key }, replacement: { chunks: parts.length }, upsert: true } })
  }
  return ops
}

/** Ids of the chunk documents a head points at (none for an inline value). */
export function chunkIdsOf(doc: ClientDataDoc, location: string): string[] {
  if (isStr(doc.v)) return []
  if (!isNum(doc.chunks) || !Number.isInteger(doc.chunks) || doc.chunks < 1) {
    throw corrupt(location, 'neither an inline value {v} nor a chunked one {chunks}')
  }
  return Array.from({ length: doc.chunks }, (_, i) => chunkId(doc._id, i))
}

/** Rebuilds a value from its head and the chunk documents read for it. */
export function assembleValue(
  doc: ClientDataDoc,
  chunks: Map<string, ClientDataDoc>,
  location: string,
): string {
  if (isStr(doc.v)) return doc.v
  return chunkIdsOf(doc, location)
    .map((id) => {
      const part = chunks.get(id)?.v
      if (!isStr(part)) throw corrupt(location, `chunk ${id} is missing`)
      return part
    })
    .join('')
}
