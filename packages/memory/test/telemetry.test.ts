import { type Nenc, Nenc as NencApp, RetryError } from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { context, metrics, type Span, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { memoryBackend } from '../src/index.js'

/**
 * OpenTelemetry with the SDK's in-memory exporters: a span per run, child of the caller's span
 * through the trace context stored with the invocation (the runner reads it from the record, not
 * from the caller's memory), children of a task under its run's span, and nenc's metrics.
 */
const spans = new InMemorySpanExporter()
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
})
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
const meterProvider = new MeterProvider({ readers: [reader] })

const apps: Nenc[] = []
function newApp(): Nenc {
  const app = new NencApp({
    appId: `otel-${Math.random().toString(36).slice(2, 8)}`,
    backend: memoryBackend(),
    runner: new ThreadRunner({ maxThreads: 4 }),
    env: {},
  })
  apps.push(app)
  return app
}

afterEach(async () => {
  for (const a of apps.splice(0)) await a.close()
  spans.reset()
})

describe('without an OpenTelemetry SDK', () => {
  it('stores no trace context and runs as usual', async () => {
    const app = newApp()
    const add = app.task('add', async (x: number, y: number) => x + y)
    await app.runner.start()
    const inv = await add(1, 2)
    expect(await inv.result()).toBe(3)
    const [record] = await app.backend.stateBackend.getInvocations([inv.id])
    expect(record).not.toHaveProperty('traceContext')
  })
})

describe('with the OpenTelemetry SDK', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(tracerProvider)
    metrics.setGlobalMeterProvider(meterProvider)
  })
  afterAll(async () => {
    trace.disable()
    metrics.disable()
    context.disable()
    await meterProvider.shutdown()
  })

  it("a run's span is the child of the caller's span; its children's runs are children of it", async () => {
    const app = newApp()
    const leaf = app.task('leaf', async (x: number) => x * 2)
    const fan = app.task('fan', async (xs: number[]) => {
      const parts = await (await leaf.parallelize(xs.map((x) => [x] as [number]))).results()
      return parts.reduce((a, b) => a + b, 0)
    })
    await app.runner.start()
    const tracer = trace.getTracer('test')
    const { inv, caller } = await tracer.startActiveSpan('caller', async (span: Span) => {
      const routed = await fan([1, 2])
      span.end()
      return { inv: routed, caller: span.spanContext() }
    })
    expect(await inv.result({ timeoutMs: 10_000 })).toBe(6)

    const [record] = await app.backend.stateBackend.getInvocations([inv.id])
    expect(record!.traceContext!.traceparent).toBe(`00-${caller.traceId}-${caller.spanId}-01`)
    const runs = spans.getFinishedSpans().filter((s) => s.name.startsWith('nenc.run'))
    const fanRun = runs.find((s) => s.name === 'nenc.run fan')!
    expect(fanRun.spanContext().traceId).toBe(caller.traceId)
    expect(fanRun.parentSpanContext?.spanId).toBe(caller.spanId)
    expect(fanRun.attributes).toMatchObject({
      'nenc.task': 'fan',
      'nenc.invocation.id': inv.id,
      'nenc.attempt': 1,
      'nenc.status': 'success',
    })
    const leafRuns = runs.filter((s) => s.name === 'nenc.run leaf')
    expect(leafRuns).toHaveLength(2)
    for (const s of leafRuns) {
      expect(s.spanContext().traceId).toBe(caller.traceId)
      expect(s.parentSpanContext?.spanId).toBe(fanRun.spanContext().spanId)
      expect(s.attributes['nenc.parent.id']).toBe(inv.id)
    }
  })

  it('a failed run records the exception and an error status', async () => {
    const app = newApp()
    const boom = app.task('boom', async () => {
      throw new TypeError('bad input')
    })
    await app.runner.start()
    const inv = await boom()
    await expect(inv.result({ timeoutMs: 10_000 })).rejects.toThrow(/bad input/)
    const [run] = spans.getFinishedSpans().filter((s) => s.name === 'nenc.run boom')
    expect(run!.status).toEqual({ code: 2, message: 'bad input' })
    expect(run!.events.map((e) => e.name)).toEqual(['exception'])
    expect(run!.attributes['nenc.status']).toBe('failed')
  })

  it('counts routed, started, finished by status and retries; measures queue wait and run time', async () => {
    const app = newApp()
    let calls = 0
    const flaky = app.task(
      'metrics.flaky',
      async () => {
        if (++calls === 1) throw new RetryError()
        return 'ok'
      },
      { maxRetries: 1, retryBackoffMs: 1 },
    )
    const quick = app.task('metrics.quick', async (x: number) => x)
    await app.runner.start()
    await (await flaky()).result({ timeoutMs: 10_000 })
    await (await quick.parallelize([[1], [2], [3]])).results()

    await reader.forceFlush()
    const exported = metricExporter
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((s) => s.metrics)
    const points = (name: string) =>
      (exported.find((m) => m.descriptor.name === name)?.dataPoints ?? []) as DataPoint<unknown>[]
    const sum = (name: string, attrs: Record<string, string>) =>
      points(name)
        .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
        .reduce(
          (n, p) => n + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
          0,
        )

    expect(sum('nenc.invocations.routed', { 'nenc.task': 'metrics.flaky' })).toBe(1)
    expect(sum('nenc.invocations.routed', { 'nenc.task': 'metrics.quick' })).toBe(3)
    expect(sum('nenc.invocations.started', { 'nenc.task': 'metrics.flaky' })).toBe(2)
    expect(sum('nenc.invocations.finished', { 'nenc.task': 'metrics.flaky', 'nenc.status': 'retry' })).toBe(1)
    expect(sum('nenc.invocations.finished', { 'nenc.task': 'metrics.flaky', 'nenc.status': 'success' })).toBe(
      1,
    )
    expect(sum('nenc.invocations.finished', { 'nenc.task': 'metrics.quick', 'nenc.status': 'success' })).toBe(
      3,
    )
    expect(sum('nenc.invocations.retries', { 'nenc.task': 'metrics.flaky' })).toBe(1)
    // Histograms: one queue wait per invocation's first run, one run time per run.
    expect(sum('nenc.invocation.queue_wait', { 'nenc.task': 'metrics.quick' })).toBe(3)
    expect(sum('nenc.invocation.queue_wait', { 'nenc.task': 'metrics.flaky' })).toBe(1)
    expect(sum('nenc.invocation.run_time', { 'nenc.task': 'metrics.flaky' })).toBe(2)
    expect(points('nenc.invocation.run_time')[0]!.attributes).toHaveProperty('nenc.status')
  })
})
