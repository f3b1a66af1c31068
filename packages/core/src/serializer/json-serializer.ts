import { SerializationError } from '../errors.js'
import type { Serializer } from './serializer.js'

/**
 * JSON plus Date, BigInt, Map, Set, Uint8Array/Buffer, undefined, NaN/±Infinity and Error, encoded
 * as `{"$nenc": <type>, "v": <value>}` envelopes. Plain JSON values take a fast path (one
 * `JSON.stringify`) after a scan proves they need no envelope. Nothing on load runs code: errors
 * come back as plain `Error` objects carrying the original name.
 */
const TAG = '$nenc'

function isPlainJson(value: unknown, depth: number): boolean {
  if (depth > 64) return false
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false
        return true
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return false
      for (const key in value) {
        if (key === TAG) return false
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}

function encode(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : { [TAG]: 'number', v: String(value) }
    case 'undefined':
      return { [TAG]: 'undefined' }
    case 'bigint':
      return { [TAG]: 'bigint', v: value.toString() }
    case 'function':
      throw new SerializationError(path, 'functions cannot be serialized')
    case 'symbol':
      throw new SerializationError(path, 'symbols cannot be serialized')
  }
  if (value === null) return null
  const obj = value as object
  if (seen.has(obj)) throw new SerializationError(path, 'circular reference')
  seen.add(obj)
  try {
    if (Array.isArray(obj)) return obj.map((v, i) => encode(v, `${path}[${i}]`, seen))
    if (obj instanceof Date) return { [TAG]: 'date', v: obj.getTime() }
    if (obj instanceof Map) {
      return {
        [TAG]: 'map',
        v: [...obj].map(([k, v], i) => [
          encode(k, `${path}<key ${i}>`, seen),
          encode(v, `${path}.get(${i})`, seen),
        ]),
      }
    }
    if (obj instanceof Set)
      return { [TAG]: 'set', v: [...obj].map((v, i) => encode(v, `${path}<item ${i}>`, seen)) }
    if (obj instanceof Uint8Array)
      return { [TAG]: 'bytes', v: Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64') }
    if (obj instanceof Error) return { [TAG]: 'error', v: encodeError(obj, path, seen) }
    const proto = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'unknown'
      throw new SerializationError(path, `instances of class ${name} cannot be serialized; pass plain data`)
    }
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(obj)) {
      const encoded = encode((obj as Record<string, unknown>)[key], `${path}.${key}`, seen)
      if (key === TAG) out[`${TAG}:escaped`] = encoded
      else out[key] = encoded
    }
    return out
  } finally {
    seen.delete(obj)
  }
}

function encodeError(err: Error, path: string, seen: Set<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message, stack: err.stack }
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') out.code = code
  if (err.cause !== undefined) {
    try {
      out.cause = encode(err.cause, `${path}.cause`, seen)
    } catch {
      out.cause = { [TAG]: 'error', v: { name: 'Error', message: String(err.cause) } }
    }
  }
  return out
}

function decode(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decode(value[i])
    return value
  }
  const rec = value as Record<string, unknown>
  const tag = rec[TAG]
  if (typeof tag === 'string') {
    const v = rec.v
    switch (tag) {
      case 'undefined':
        return undefined
      case 'number':
        return Number(v)
      case 'bigint':
        return BigInt(v as string)
      case 'date':
        return new Date(v as number)
      case 'map':
        return new Map((v as [unknown, unknown][]).map(([k, x]) => [decode(k), decode(x)]))
      case 'set':
        return new Set((v as unknown[]).map(decode))
      case 'bytes':
        return new Uint8Array(Buffer.from(v as string, 'base64'))
      case 'error':
        return decodeError(v as Record<string, unknown>)
      default:
        return rec // an envelope from a newer version: keep the raw data rather than guess
    }
  }
  for (const key of Object.keys(rec)) {
    const decoded = decode(rec[key])
    if (key === `${TAG}:escaped`) {
      delete rec[key]
      rec[TAG] = decoded
    } else rec[key] = decoded
  }
  return rec
}

function decodeError(v: Record<string, unknown>): Error {
  const err = new Error(
    String(v.message ?? ''),
    v.cause === undefined ? undefined : { cause: decode(v.cause) },
  )
  err.name = String(v.name ?? 'Error')
  if (typeof v.stack === 'string') err.stack = v.stack
  if (typeof v.code === 'string') (err as { code?: string }).code = v.code
  return err
}

export class JsonSerializer implements Serializer {
  readonly name = 'json'
  serialize(value: unknown, path = 'value'): string {
    if (isPlainJson(value, 0)) return JSON.stringify(value)
    return JSON.stringify(encode(value, path, new Set()))
  }
  deserialize(text: string): unknown {
    const parsed: unknown = JSON.parse(text)
    return text.includes(TAG) ? decode(parsed) : parsed
  }
}

export const defaultSerializer: Serializer = new JsonSerializer()
