import { defineConfig } from 'vitest/config'

// One file at a time: the browser tests start Chromium and servers of their own.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, fileParallelism: false },
})
