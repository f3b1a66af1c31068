import { Nenc, ResultTimeoutError } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryBackend } from '../src/index.js'

/** A pino-shaped logger that records every call; children log into the same record. */
function recordingLogger() {
  const lines: { level: string; args: unknown[] }[] = []
  const logger: Record<string, unknown> = {}
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
    logger[level] = (...args: unknown[]) => lines.push({ level, args })
  logger.child = () => logger
  logger.level = 'warn'
  return { logger: logger as unknown as NonNullable<ConstructorParameters<typeof Nenc>[0]['logger']>, lines }
}

const apps: Nenc[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

function appWith(config: Record<string, unknown> = {}, runner?: ThreadRunner) {
  const rec = recordingLogger()
  const app = new Nenc({
    appId: `rt-${apps.length}`,
    backend: memoryBackend(),
    runner,
    config,
    env: {},
    logger: rec.logger,
  })
  apps.push(app)
  return { app, lines: rec.lines }
}

const warnings = (lines: { level: string; args: unknown[] }[]) =>
  lines.filter((l) => l.level === 'warn' && String(l.args[1]).includes('No runner is running'))

describe('result({ timeoutMs })', () => {
  it('rejects with ResultTimeoutError naming the invocation and the timeout; the invocation is untouched', async () => {
    const { app } = appWith({ orchestrator: { noRunnerWarnAfterMs: 0 } }, new ThreadRunner({ maxThreads: 1 }))
    const t = app.task('t', async () => 'ok')
    const inv = await t()
    const statusBefore = await inv.status()
    const historyBefore = await inv.history()
    const started = Date.now()
    const err = await inv.result({ timeoutMs: 80 }).catch((e: unknown) => e)
    expect(Date.now() - started).toBeGreaterThanOrEqual(70)
    expect(err).toBeInstanceOf(ResultTimeoutError)
    const e = err as ResultTimeoutError
    expect(e.code).toBe('RESULT_TIMEOUT')
    expect(e.invocationId).toBe(inv.id)
    expect(e.timeoutMs).toBe(80)
    expect(e.message).toContain(inv.id)
    expect(e.message).toContain('80 ms')
    expect(await inv.status()).toBe(statusBefore)
    expect(await inv.history()).toEqual(historyBefore)

    // The invocation still runs once a runner starts, and the result arrives.
    await app.runner.start()
    expect(await inv.result({ timeoutMs: 5000 })).toBe('ok')
  })

  it('applies to a group: results({ timeoutMs }) names the pending invocations', async () => {
    const { app } = appWith({ orchestrator: { noRunnerWarnAfterMs: 0 } })
    const t = app.task('t', async (x: number) => x * 2)
    const group = await t.parallelize([[1], [2]])
    const err = await group.results({ timeoutMs: 30 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ResultTimeoutError)
    expect((err as ResultTimeoutError).invocationIds).toEqual(group.ids)
  })

  it('refuses a negative timeout', async () => {
    const { app } = appWith({ orchestrator: { noRunnerWarnAfterMs: 0 } })
    const inv = await app.task('t', async () => 1)()
    await expect(inv.result({ timeoutMs: -1 })).rejects.toBeInstanceOf(RangeError)
  })
})

describe('waiting with no runner', () => {
  it('logs one warning per app saying no runner is running and how to start one', async () => {
    const { app, lines } = appWith({ orchestrator: { noRunnerWarnAfterMs: 30 } })
    const t = app.task('t', async () => 'ok')
    const a = await t()
    const b = await t()
    await Promise.all([
      a.result({ timeoutMs: 150 }).catch(() => {}),
      b.result({ timeoutMs: 150 }).catch(() => {}),
    ])
    await a.result({ timeoutMs: 100 }).catch(() => {})
    const w = warnings(lines)
    expect(w).toHaveLength(1)
    const msg = String(w[0]!.args[1])
    expect(msg).toContain(`app "${app.appId}"`)
    expect(msg).toContain('nenc runner start --app <path>')
    expect(msg).toContain('app.runner.start()')
  })

  it('does not warn while a runner of the app is heartbeating', async () => {
    const { app, lines } = appWith(
      { orchestrator: { noRunnerWarnAfterMs: 30 } },
      new ThreadRunner({ maxThreads: 1 }),
    )
    const t = app.task('slow', async () => {
      await new Promise((r) => setTimeout(r, 120))
      return 'done'
    })
    await app.runner.start()
    expect(await (await t()).result()).toBe('done')
    expect(warnings(lines)).toHaveLength(0)
  })
})
