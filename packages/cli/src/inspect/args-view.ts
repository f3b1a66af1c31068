import { deserializeArgs, type Nenc } from '@nenc/core'

/** One call argument as `nenc invocation show` presents it. */
export interface ArgView {
  /** Length of the argument's serialized text: what it costs to store and to print. */
  chars: number
  /** Kept in the client data store (large values), not inline in the invocation record. */
  inClientDataStore: boolean
  /** The value itself, when it is at most the display limit (or `--full` was given). */
  value?: unknown
  /** The first characters of its serialized text otherwise. */
  preview?: string
}

/** What the arguments of a stored record read as; `error` when they cannot be read at all. */
export type ArgsView = { args: ArgView[] } | { error: string; raw: string }

const PREVIEW_CHARS = 80

/**
 * Indices of arguments stored in the client data store. The stored list starts with a header
 * line naming them (core's `serializeArgs` format); a header-less list has none.
 */
function outOfBandIndices(text: string): Set<number> {
  const nl = text.indexOf('\n')
  if (text.startsWith('[') || nl < 0) return new Set()
  try {
    const header = JSON.parse(text.slice(0, nl)) as { r?: Record<string, string> }
    return new Set(Object.keys(header.r ?? {}).map(Number))
  } catch {
    return new Set()
  }
}

/**
 * Reads the arguments as a runner does (large values fetched from the client data store), then
 * keeps each one whose serialized text is at most `maxChars` long and summarises the others by
 * size and a preview, so a multi-megabyte argument neither floods the terminal nor the JSON.
 */
export async function viewArgs(app: Nenc, stored: string, maxChars: number): Promise<ArgsView> {
  let values: unknown[]
  try {
    values = await deserializeArgs(app.serializer, stored, app.backend.clientDataStore, app.largeValues)
  } catch (err) {
    return { error: (err as Error).message, raw: stored.slice(0, PREVIEW_CHARS) }
  }
  const large = outOfBandIndices(stored)
  return {
    args: values.map((value, i) => {
      const text = app.serializer.serialize(value, `argument ${i + 1}`)
      const view: ArgView = { chars: text.length, inClientDataStore: large.has(i) }
      if (text.length <= maxChars) view.value = value
      else view.preview = `${text.slice(0, PREVIEW_CHARS)}…`
      return view
    }),
  }
}
