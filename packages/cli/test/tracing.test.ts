import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Nenc, Task } from '@nenc/core'
import { context, type Span, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture, startRunnerProcess } from './helpers.js'

/**
 * Across processes: the caller (this process) routes inside its span; `nenc runner start` in
 * another process, with its own OpenTelemetry SDK, runs the invocations. The only link between
 * them is the trace context stored with each invocation in Redis — and the runner's spans are
 * children of the caller's.
 */
interface Traced {
  app: Nenc
  pair: Task<[number], number>
}

const id = randomUUID().replace(/-/g, '').slice(0, 12)
const spansFile = join(tmpdir(), `nenc-spans-${id}.jsonl`)
const env = { NENC_TEST_APP_ID: `cli-traced-${id}`, NENC_TEST_SPANS_FILE: spansFile }
let mod: Traced
let runner: ReturnType<typeof startRunnerProcess>

beforeAll(async () => {
  // The caller's SDK: spans record (nothing exported), so routing captures their context.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(new BasicTracerProvider())
  process.env.NENC_TEST_APP_ID = env.NENC_TEST_APP_ID
  mod = await import(`${fixture('traced-app.mjs')}?${id}`)
  runner = startRunnerProcess(['--app', fixture('traced-app.mjs')], env)
  await runner.running
})

afterAll(async () => {
  if (runner.proc.exitCode === null) {
    runner.proc.kill('SIGTERM')
    await runner.exited
  }
  await mod.app.purge()
  await mod.app.close()
  trace.disable()
  context.disable()
  if (existsSync(spansFile)) rmSync(spansFile)
})

describe('traces across processes', () => {
  it("the runner process's run spans are children of the caller's span; a fan-out nests under its parent's run", async () => {
    const { inv, caller } = await trace.getTracer('test').startActiveSpan('caller', async (span: Span) => {
      const routed = await mod.pair(5)
      span.end()
      return { inv: routed, caller: span.spanContext() }
    })
    expect(await inv.result({ timeoutMs: 20_000 })).toBe(22)
    const read = () =>
      existsSync(spansFile)
        ? readFileSync(spansFile, 'utf8')
            .trim()
            .split('\n')
            .map(
              (l) =>
                JSON.parse(l) as {
                  name: string
                  traceId: string
                  spanId: string
                  parentSpanId: string | null
                  attributes: Record<string, unknown>
                  pid: number
                },
            )
        : []
    // Spans are written as they end; the parent's ends just after its children's.
    let spans = read()
    for (let i = 0; i < 100 && spans.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 50))
      spans = read()
    }
    const parentRun = spans.find((s) => s.name === 'nenc.run pair')!
    expect(parentRun.pid).toBe(runner.proc.pid)
    expect(parentRun.pid).not.toBe(process.pid)
    expect(parentRun.traceId).toBe(caller.traceId)
    expect(parentRun.parentSpanId).toBe(caller.spanId)
    expect(parentRun.attributes).toMatchObject({ 'nenc.invocation.id': inv.id, 'nenc.status': 'success' })
    const childRuns = spans.filter((s) => s.name === 'nenc.run double')
    expect(childRuns).toHaveLength(2)
    for (const c of childRuns) {
      expect(c.traceId).toBe(caller.traceId)
      expect(c.parentSpanId).toBe(parentRun.spanId)
    }
  })
})
