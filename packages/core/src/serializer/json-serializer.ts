import { SerializationError } from '../errors.js'
import type { Serializer } from './serializer.js'

/**
 * JSON plus Date, BigInt, Map, Set, Uint8Array/Buffer, undefined, NaN/±Infinity and Error.
 *
 * Stored format (out-of-band, like superjson's `meta` tree):
 * - a plain JSON value with no special values is stored as exactly `JSON.stringify(value)`;
 * - anything else is stored as `~` followed by `{"j": <plain JSON>, "m": [[<path>, <type>], ...]}`,
 *   where special values in `j` are replaced by plain placeholders and `m` lists, in pre-order,
 *   the path (an array of object keys / array indexes) and type of each replaced value.
 * No JSON text starts with `~`, so the two forms cannot be confused, and user data (which only
 * ever lives inside `j`) can never be read as type metadata: every key, including `$nenc`,
 * round-trips verbatim. Nothing on load runs code: errors come back as plain `Error` objects.
 */
const META_PREFIX = '~'

type Path = (string | number)[]
type Meta = [Path, string][]

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
        if (!Object.hasOwn(value, key)) return false
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}

class Encoder {
  readonly meta: Meta = []
  private readonly seen = new Set<object>()

  encode(value: unknown, path: string, at: Path): unknown {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value
      case 'number':
        if (Number.isFinite(value)) return value
        this.meta.push([at, 'number'])
        return String(value)
      case 'undefined':
        this.meta.push([at, 'undefined'])
        return null
      case 'bigint':
        this.meta.push([at, 'bigint'])
        return value.toString()
      case 'function':
        throw new SerializationError(path, 'functions cannot be serialized')
      case 'symbol':
        throw new SerializationError(path, 'symbols cannot be serialized')
    }
    if (value === null) return null
    const obj = value as object
    if (this.seen.has(obj)) throw new SerializationError(path, 'circular reference')
    this.seen.add(obj)
    try {
      if (Array.isArray(obj)) return obj.map((v, i) => this.encode(v, `${path}[${i}]`, [...at, i]))
      if (obj instanceof Date) {
        this.meta.push([at, 'date'])
        return obj.getTime()
      }
      if (obj instanceof Map) {
        this.meta.push([at, 'map'])
        return [...obj].map(([k, v], i) => [
          this.encode(k, `${path}<key ${i}>`, [...at, i, 0]),
          this.encode(v, `${path}.get(${i})`, [...at, i, 1]),
        ])
      }
      if (obj instanceof Set) {
        this.meta.push([at, 'set'])
        return [...obj].map((v, i) => this.encode(v, `${path}<item ${i}>`, [...at, i]))
      }
      if (obj instanceof Uint8Array) {
        this.meta.push([at, 'bytes'])
        return Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64')
      }
      if (obj instanceof Error) {
        this.meta.push([at, 'error'])
        return this.encodeError(obj, path, at)
      }
      const proto = Object.getPrototypeOf(obj)
      if (proto !== Object.prototype && proto !== null) {
        const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'unknown'
        throw new SerializationError(path, `instances of class ${name} cannot be serialized; pass plain data`)
      }
      const out: Record<string, unknown> = Object.create(null)
      for (const key of Object.keys(obj)) {
        out[key] = this.encode((obj as Record<string, unknown>)[key], `${path}.${key}`, [...at, key])
      }
      return out
    } finally {
      this.seen.delete(obj)
    }
  }

  private encodeError(err: Error, path: string, at: Path): Record<string, unknown> {
    const out: Record<string, unknown> = { name: err.name, message: err.message, stack: err.stack }
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') out.code = code
    if (err.cause !== undefined) {
      const mark = this.meta.length
      try {
        out.cause = this.encode(err.cause, `${path}.cause`, [...at, 'cause'])
      } catch {
        this.meta.length = mark
        this.meta.push([[...at, 'cause'], 'error'])
        out.cause = { name: 'Error', message: String(err.cause) }
      }
    }
    return out
  }
}

function revive(type: string, v: unknown): unknown {
  switch (type) {
    case 'undefined':
      return undefined
    case 'number':
      return Number(v)
    case 'bigint':
      return BigInt(v as string)
    case 'date':
      return new Date(v as number)
    case 'map':
      return new Map(v as [unknown, unknown][])
    case 'set':
      return new Set(v as unknown[])
    case 'bytes':
      return new Uint8Array(Buffer.from(v as string, 'base64'))
    case 'error':
      return reviveError(v as Record<string, unknown>)
    default:
      return v // a type from a newer version: keep the raw data rather than guess
  }
}

function reviveError(v: Record<string, unknown>): Error {
  const err = new Error(String(v.message ?? ''), v.cause === undefined ? undefined : { cause: v.cause })
  err.name = String(v.name ?? 'Error')
  if (typeof v.stack === 'string') err.stack = v.stack
  if (typeof v.code === 'string') (err as { code?: string }).code = v.code
  return err
}

function applyMeta(root: unknown, meta: Meta): unknown {
  // Pre-order list, applied in reverse: children are revived before their containers.
  for (let m = meta.length - 1; m >= 0; m--) {
    const [path, type] = meta[m]!
    if (path.length === 0) {
      root = revive(type, root)
      continue
    }
    let parent = root as Record<string | number, unknown>
    for (let i = 0; i < path.length - 1; i++) parent = parent[path[i]!] as Record<string | number, unknown>
    const last = path[path.length - 1]!
    const revived = revive(type, parent[last])
    if (revived === undefined && !Array.isArray(parent)) {
      // keep the key present with value undefined, as an own data property
      Object.defineProperty(parent, last, {
        value: undefined,
        writable: true,
        enumerable: true,
        configurable: true,
      })
    } else if (last === '__proto__') {
      Object.defineProperty(parent, last, {
        value: revived,
        writable: true,
        enumerable: true,
        configurable: true,
      })
    } else parent[last] = revived
  }
  return root
}

export class JsonSerializer implements Serializer {
  readonly name = 'json'
  serialize(value: unknown, path = 'value'): string {
    if (isPlainJson(value, 0)) return JSON.stringify(value)
    const enc = new Encoder()
    const json = enc.encode(value, path, [])
    if (enc.meta.length === 0) return JSON.stringify(json)
    return META_PREFIX + JSON.stringify({ j: json, m: enc.meta })
  }
  deserialize(text: string): unknown {
    if (!text.startsWith(META_PREFIX)) return JSON.parse(text)
    const { j, m } = JSON.parse(text.slice(META_PREFIX.length)) as { j: unknown; m: Meta }
    return applyMeta(j, m)
  }
}

export const defaultSerializer: Serializer = new JsonSerializer()
