import { defineConfig } from 'tsup'
import { baseTsupConfig } from '../../tsup.base.js'

// The child-process and worker-thread entries are found at run time beside index.js
// (`new URL('./process-child.js', import.meta.url)`), so they are built as entries too.
export default defineConfig({
  ...baseTsupConfig,
  entry: ['src/index.ts', 'src/process-child.ts', 'src/worker-thread-entry.ts'],
})
