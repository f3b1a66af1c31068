import { sha256 } from '../ids.js'

type AnyFn = (...args: any[]) => boolean

/** A predicate with the name it is registered under (its identity across processes). */
export interface NamedPredicate<F extends AnyFn> {
  readonly predicateName: string
  readonly fn: F
}

/** A filter function: a {@link predicate} with its name, or a plain function keyed by its source. */
export type PredicateLike<F extends AnyFn> = F | NamedPredicate<F>

/**
 * Names a filter function. Functions are never serialized: a condition stores the name, and every
 * process that loads the app module finds the function under it. Name a predicate whose result
 * depends on values captured from its scope; a plain function is keyed by its source text, which
 * is the same in every process only when the function does not depend on such values.
 *
 * ```ts
 * onResult(charge, predicate('bigCharge', (r) => r.amountCents > 10_000))
 * ```
 */
export function predicate<F extends AnyFn>(name: string, fn: F): NamedPredicate<F> {
  return { predicateName: name, fn }
}

export function isNamedPredicate(p: unknown): p is NamedPredicate<AnyFn> {
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof (p as NamedPredicate<AnyFn>).predicateName === 'string' &&
    typeof (p as NamedPredicate<AnyFn>).fn === 'function'
  )
}

/** The registry key and function of a predicate: `name:<name>` or `src:<sha256 of the source>`. */
export function predicateEntry(p: PredicateLike<AnyFn>): { key: string; fn: AnyFn } {
  if (isNamedPredicate(p)) return { key: `name:${p.predicateName}`, fn: p.fn }
  return { key: `src:${sha256(p.toString())}`, fn: p }
}

/**
 * The predicates of an app by key. A name registered twice must be the same function: two
 * functions under one name would make processes disagree on which conditions hold.
 */
export class PredicateRegistry {
  private readonly byKey = new Map<string, AnyFn>()

  /** Registers `entry`; returns an error message when the key holds another function. */
  add(entry: { key: string; fn: AnyFn }): string | null {
    const known = this.byKey.get(entry.key)
    if (known && known !== entry.fn && entry.key.startsWith('name:'))
      return `predicate "${entry.key.slice(5)}" is already registered with another function`
    this.byKey.set(entry.key, known ?? entry.fn)
    return null
  }

  get(key: string): AnyFn | undefined {
    return this.byKey.get(key)
  }
}
