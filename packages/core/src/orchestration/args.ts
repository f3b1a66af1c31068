import { SerializationError } from '../errors.js'
import { sha256 } from '../ids.js'
import type { ClientDataStore } from '../interfaces/client-data-store.js'
import type { Serializer } from '../serializer/serializer.js'

/** Settings of the client data store path (config `clientDataStore.*`). */
export interface ArgStorePolicy {
  disabled: boolean
  minSizeToCache: number
}

/**
 * Stored argument-list format: a header line, then the arguments' serialized texts concatenated.
 * The header is `JSON.stringify({l: [<length of each text>], r: {<index>: <hash>}})` followed by
 * `\n`. An argument stored in the client data store has an empty text and an entry in `r`. The
 * references live only in the header, which nenc writes and user data never reaches, so no
 * argument value can ever be read as a reference.
 */
interface ArgsHeader {
  l: number[]
  r?: Record<string, string>
}

/**
 * Serializes an argument list. Each argument is serialized on its own so an error names it
 * (`add(arg 2).items[0]`) and so a large one can be stored once by content hash in the client
 * data store, with an out-of-band reference in the header in its place.
 */
export function serializeArgs(
  serializer: Serializer,
  taskName: string,
  args: readonly unknown[],
  policy: ArgStorePolicy,
  large: { key: string; value: string }[],
): string {
  const parts = new Array<string>(args.length)
  const header: ArgsHeader = { l: new Array<number>(args.length) }
  for (let i = 0; i < args.length; i++) {
    let text: string
    try {
      text = serializer.serialize(args[i], `${taskName}(arg ${i + 1})`)
    } catch (err) {
      if (err instanceof SerializationError) throw err
      throw new SerializationError(`${taskName}(arg ${i + 1})`, (err as Error).message, { cause: err })
    }
    if (!policy.disabled && text.length >= policy.minSizeToCache) {
      const key = sha256(text)
      large.push({ key, value: text })
      if (!header.r) header.r = {}
      header.r[i] = key
      text = ''
    }
    parts[i] = text
    header.l[i] = text.length
  }
  return `${JSON.stringify(header)}\n${parts.join('')}`
}

/** A small LRU of resolved large values, so a value shared by many invocations is fetched once. */
export class LargeValueCache {
  private readonly map = new Map<string, string>()
  constructor(private readonly size: number) {}
  get(key: string): string | undefined {
    const v = this.map.get(key)
    if (v !== undefined) {
      this.map.delete(key)
      this.map.set(key, v)
    }
    return v
  }
  set(key: string, value: string): void {
    if (this.size <= 0) return
    this.map.set(key, value)
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!)
  }
}

/** Reverses {@link serializeArgs}, fetching referenced large values in one round trip. */
export async function deserializeArgs(
  serializer: Serializer,
  text: string,
  store: ClientDataStore,
  cache: LargeValueCache,
): Promise<unknown[]> {
  if (text.startsWith('[')) {
    // A header-less list (hand-written records, older versions): plain values only. No element is
    // ever read as a large-value reference.
    const list = serializer.deserialize(text)
    if (!Array.isArray(list)) throw new SerializationError('arguments', 'stored arguments are not a list')
    return list
  }
  const nl = text.indexOf('\n')
  let header: ArgsHeader
  try {
    header = JSON.parse(nl < 0 ? text : text.slice(0, nl)) as ArgsHeader
  } catch {
    throw new SerializationError('arguments', 'stored arguments are not a list')
  }
  if (nl < 0 || header === null || typeof header !== 'object' || !Array.isArray(header.l)) {
    throw new SerializationError('arguments', 'stored arguments are not a list')
  }
  const refs = header.r ?? {}
  const args = new Array<unknown>(header.l.length)
  const missing: { index: number; key: string }[] = []
  let pos = nl + 1
  for (let i = 0; i < header.l.length; i++) {
    const len = header.l[i]!
    const key = Object.hasOwn(refs, i) ? refs[i] : undefined
    if (key !== undefined) {
      const hit = cache.get(key)
      if (hit !== undefined) args[i] = serializer.deserialize(hit)
      else missing.push({ index: i, key })
    } else args[i] = serializer.deserialize(text.slice(pos, pos + len))
    pos += len
  }
  if (missing.length) {
    const values = await store.retrieve(missing.map((m) => m.key))
    missing.forEach((m, j) => {
      const v = values[j]
      if (v === null || v === undefined) {
        throw new SerializationError(
          `argument ${m.index + 1}`,
          `large value ${m.key} is missing from the client data store`,
        )
      }
      cache.set(m.key, v)
      args[m.index] = serializer.deserialize(v)
    })
  }
  return args
}
