import { defineConfig } from 'vitest/config'

// The default logger is silent in tests, so their output holds no stray log lines; a test that
// checks log lines gives its app a logger (or its child process a level). See everything with
// `NENC_LOG_LEVEL=debug`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    env: { NENC_LOG_LEVEL: process.env.NENC_LOG_LEVEL ?? 'silent' },
  },
})
