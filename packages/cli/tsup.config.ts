import { defineConfig } from 'tsup'
import { baseTsupConfig } from '../../tsup.base.js'

// `bin.ts` keeps its shebang; tsup marks the output executable.
export default defineConfig({ ...baseTsupConfig, entry: ['src/index.ts', 'src/bin.ts'] })
