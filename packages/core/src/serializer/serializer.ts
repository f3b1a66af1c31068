/**
 * Turns values into strings and back. Implementations must never execute code on load.
 * `serialize` throws `SerializationError` naming the path of the offending value.
 */
export interface Serializer {
  readonly name: string
  serialize(value: unknown, path?: string): string
  deserialize(text: string): unknown
}
