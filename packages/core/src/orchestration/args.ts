import { SerializationError } from '../errors.js'
import { sha256 } from '../ids.js'
import type { ClientDataStore } from '../interfaces/client-data-store.js'
import type { Serializer } from '../serializer/serializer.js'

/** Settings of the client data store path (config `clientDataStore.*`). */
export interface ArgStorePolicy {
  disabled: boolean
  minSizeToCache: number
}

const REF_TAG = '$nenc'
const isRef = (v: unknown): v is { $nenc: 'ref'; k: string } =>
  typeof v === 'object' && v !== null && (v as Record<string, unknown>)[REF_TAG] === 'ref'

/**
 * Serializes an argument list to one JSON array. Each argument is serialized on its own so an
 * error names it (`add(arg 2).items[0]`) and so a large one can be stored once by content hash in
 * the client data store, leaving a `{"$nenc":"ref","k":…}` reference in its place.
 */
export function serializeArgs(
  serializer: Serializer,
  taskName: string,
  args: readonly unknown[],
  policy: ArgStorePolicy,
  large: { key: string; value: string }[],
): string {
  const parts = new Array<string>(args.length)
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
      text = `{"${REF_TAG}":"ref","k":"${key}"}`
    }
    parts[i] = text
  }
  return `[${parts.join(',')}]`
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
  const args = serializer.deserialize(text)
  if (!Array.isArray(args)) throw new SerializationError('arguments', 'stored arguments are not a list')
  const missing: { index: number; key: string }[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (!isRef(a)) continue
    const hit = cache.get(a.k)
    if (hit !== undefined) args[i] = serializer.deserialize(hit)
    else missing.push({ index: i, key: a.k })
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
