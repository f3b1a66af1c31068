import { createNoopMeter, INVALID_SPAN_CONTEXT, metrics, type Tracer, trace } from '@opentelemetry/api'
import { afterEach, describe, expect, it } from 'vitest'
import { observeRun, RunTelemetry } from '../src/telemetry/run-telemetry.js'

const state = { id: 'i-1', attempt: 1, retries: 0 } as Parameters<typeof observeRun>[2]
const record = { taskName: 't', createdAt: Date.now(), parentId: null } as unknown as Parameters<
  typeof observeRun
>[3]

/** A meter whose instruments are not the API's no-ops (what an SDK's are). */
function recordingMeterProvider() {
  const noop = createNoopMeter()
  class Recording {
    add() {}
    record() {}
  }
  return {
    getMeter: () => ({
      ...noop,
      createCounter: () => new Recording(),
      createHistogram: () => new Recording(),
    }),
  } as unknown as Parameters<typeof metrics.setGlobalMeterProvider>[0]
}

describe('observeRun: what a run costs without an OpenTelemetry SDK', () => {
  afterEach(() => {
    metrics.disable()
    trace.disable()
  })

  it('without an SDK every run gets one shared no-op observer that runs the task as is', () => {
    const a = observeRun('app', 'r', state, record)
    const b = observeRun('app', 'r', state, record)
    expect(a).toBe(b)
    expect(a).not.toBeInstanceOf(RunTelemetry)
    expect(a.within(() => 42)).toBe(42)
  })

  it('a registered meter provider gets a RunTelemetry per run', () => {
    metrics.setGlobalMeterProvider(recordingMeterProvider())
    const a = observeRun('app', 'r', state, record)
    expect(a).toBeInstanceOf(RunTelemetry)
    expect(observeRun('app', 'r', state, record)).not.toBe(a)
  })

  it('a registered tracer provider gets a RunTelemetry per run', () => {
    const tracer = { startSpan: () => trace.wrapSpanContext(INVALID_SPAN_CONTEXT) } as unknown as Tracer
    trace.setGlobalTracerProvider({ getTracer: () => tracer })
    expect(observeRun('app', 'r', state, record)).toBeInstanceOf(RunTelemetry)
  })
})
