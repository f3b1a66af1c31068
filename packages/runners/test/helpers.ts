import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { BaseRunner } from '@nenc/core'
import { bindRunner } from '../src/index.js'
import { backendAvailable } from './fixtures/backend.mjs'
import { createTestApp, type TestApp } from './fixtures/tasks.mjs'

export const APP_MODULE = fileURLToPath(new URL('./fixtures/app.mjs', import.meta.url))

const RUNNER_SCRIPT = fileURLToPath(new URL('./fixtures/run-runner.mjs', import.meta.url))

/**
 * A runner process of the test app the environment names (`kind` is a runner class, `options`
 * its options), added to `procs` so the test's cleanup can kill it. `running` resolves once it
 * runs; `exited` with its exit code.
 */
export function forkRunner(
  procs: ChildProcess[],
  kind: string,
  options: object,
  env: Record<string, string> = {},
) {
  const proc = fork(RUNNER_SCRIPT, [kind, JSON.stringify(options)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  procs.push(proc)
  const running = new Promise<{ runnerId: string }>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as { runnerId: string }))
    proc.once('exit', (code) => reject(new Error(`runner process exited early (${code})`)))
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return { proc, running, exited }
}

/** Backends whose package is built; the rest are reported as skipped, with the reason. */
export function availableBackends(names: readonly string[]): string[] {
  const out: string[] = []
  for (const n of names) {
    if (backendAvailable(n)) out.push(n)
    else
      console.warn(
        `[runners tests] skipping the ${n} backend: packages/${n}/dist is not built (run pnpm build).`,
      )
  }
  return out
}

/** A fresh test app with a unique id (its runner is the DummyRunner); children find it by env. */
export async function newTestApp(backend: string, prefix = 't'): Promise<TestApp> {
  const appId = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`
  process.env.NENC_TEST_APP_ID = appId
  process.env.NENC_TEST_BACKEND = backend
  return createTestApp(appId, backend)
}

export interface Started extends TestApp {
  runner: BaseRunner
  close(): Promise<void>
}

/**
 * A fresh app (unique id) on `backend`, run by `runner` (bound with the memCompatible check).
 * Children inherit the app id and backend through the environment.
 */
export async function startApp(backend: string, runner: BaseRunner, prefix = 't'): Promise<Started> {
  const t = await newTestApp(backend, prefix)
  bindRunner(t.app, runner)
  await runner.start()
  let closed = false
  return {
    ...t,
    runner,
    async close() {
      if (closed) return
      closed = true
      await runner.stop()
      await t.app.purge().catch(() => {})
      await t.app.close()
    },
  }
}

/** Polls `check` every `pollMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  pollMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}
