import type { Options } from 'tsup'

/** Shared build settings: ESM with declarations for Node 20, one config per package spreads it. */
export const baseTsupConfig: Options = {
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
}
