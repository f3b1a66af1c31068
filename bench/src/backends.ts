import type { Backend } from '@nenc/core'

/** The server-backed nenc backends the bench compares with peers. */
export type ServerKind = 'redis' | 'postgres'

/** Where to find each backend: package, factory export, and how the factory takes the server URL. */
// The bench keeps its data apart from the test suites sharing these servers (a suite that drops
// the default `nenc` schema mid-run would break a bench run, and the reverse).
const PACKAGES: Record<ServerKind, { pkg: string; factory: string; options: (url: string) => object }> = {
  redis: {
    pkg: '@nenc/redis',
    factory: 'redisBackend',
    options: (url) => ({ url, keyPrefix: 'nenc-bench' }),
  },
  postgres: {
    pkg: '@nenc/postgres',
    factory: 'postgresBackend',
    // Explicit, so the durability printed for nenc (see postgres.ts) holds by construction.
    options: (url) => ({ connectionString: url, schema: 'nenc_bench', synchronousCommit: 'acknowledged' }),
  },
}

/**
 * `fused`: the factory's backend as is, fused steps included; `composed`: without them (core
 * composes the five components, as for a mixed backend).
 */
export type NencMode = 'fused' | 'composed'

/** Builds a fresh (not yet init'ed) backend for the server at `url`. */
export type BackendFactory = (url: string) => Backend

/**
 * Imports a backend package by name at run time. The specifier is a variable on purpose: the
 * bench must typecheck and run while a backend package does not build yet, and then report its
 * scenarios as skipped with this error's message.
 */
export async function loadBackend(kind: ServerKind, mode: NencMode = 'fused'): Promise<BackendFactory> {
  const { options } = PACKAGES[kind]
  const make = await importFactory(kind)
  const build = (url: string) => make(options(url))
  if (mode === 'fused') return build
  // Composed: the factory's fused steps removed, as a mixed backend runs.
  return (url) => {
    const { steps: _fused, ...components } = build(url)
    return components
  }
}

/**
 * The PostgreSQL backend of the bench over a pool the caller owns (the backend never ends it),
 * so that the caller can count the queries it sends.
 */
export async function loadPostgresOnPool(pool: unknown): Promise<(url: string) => Backend> {
  const make = await importFactory('postgres')
  return (url) => {
    const { connectionString: _own, ...rest } = PACKAGES.postgres.options(url) as Record<string, unknown>
    return make({ ...rest, pool })
  }
}

async function importFactory(kind: ServerKind): Promise<(o: object) => Backend> {
  const { pkg, factory } = PACKAGES[kind]
  let mod: Record<string, unknown>
  try {
    mod = (await import(pkg)) as Record<string, unknown>
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new Error(`${pkg} does not import (${why}); build it with \`pnpm --filter ${pkg} build\``)
  }
  const make = mod[factory]
  if (typeof make !== 'function') throw new Error(`${pkg} does not export ${factory}() yet`)
  return make as (o: object) => Backend
}
