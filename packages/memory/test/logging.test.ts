import { context, type LogFn, type Logger, Nenc } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryBackend } from '../src/index.js'

/** A logger of the user's own (not pino): records every line with the bindings of its parents. */
function recordingLogger(lines: Record<string, unknown>[], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string): LogFn =>
    (fields: object | string, message?: string) =>
      lines.push(
        typeof fields === 'string'
          ? { ...bindings, level, msg: fields }
          : { ...bindings, ...fields, level, msg: message },
      )
  return {
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
  }
}

describe('logging through a user-supplied logger', () => {
  const apps: Nenc[] = []
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close()
  })

  it("a task's log lines carry its invocation id, task, attempt and retries, on every attempt", async () => {
    const lines: Record<string, unknown>[] = []
    const app = new Nenc({
      appId: `log-${Date.now().toString(36)}`,
      backend: memoryBackend(),
      runner: new ThreadRunner(),
      logger: recordingLogger(lines),
      env: {},
    })
    apps.push(app)
    let runs = 0
    const flaky = app.task(
      'flaky',
      async (x: number) => {
        context().logger.info({ x }, 'running')
        if (++runs === 1) throw new Error('first run fails')
        return x
      },
      { maxRetries: 1, retryFor: [Error], retryBackoffMs: 1 },
    )
    await app.runner.start()
    const inv = await flaky(7)
    expect(await inv.result({ timeoutMs: 10_000 })).toBe(7)
    const ours = lines.filter((l) => l.msg === 'running')
    expect(ours).toEqual([
      { invocationId: inv.id, task: 'flaky', attempt: 1, retries: 0, x: 7, level: 'info', msg: 'running' },
      { invocationId: inv.id, task: 'flaky', attempt: 2, retries: 1, x: 7, level: 'info', msg: 'running' },
    ])
  })
})
