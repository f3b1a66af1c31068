import { type Context, context, propagation, ROOT_CONTEXT, type SpanContext, trace } from '@opentelemetry/api'

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * The caller's trace context to store with a new invocation: entries of the registered
 * propagator (W3C `traceparent`/`tracestate` with the usual SDK setup), else a `traceparent`
 * written from the active span itself. Undefined — and nothing else done — unless a span is
 * recording, which needs an OpenTelemetry SDK: without one this is a single lookup.
 */
export function captureTraceContext(): Record<string, string> | undefined {
  const active = context.active()
  const span = trace.getSpan(active)
  if (!span?.isRecording()) return undefined
  const carrier: Record<string, string> = {}
  propagation.inject(active, carrier)
  if (Object.keys(carrier).length === 0) {
    const sc = span.spanContext()
    carrier.traceparent = `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags.toString(16).padStart(2, '0')}`
  }
  return carrier
}

/**
 * The context a run's span starts in: the stored caller's span as a remote parent. The registered
 * propagator reads it; without one (an SDK set up without propagators) its `traceparent` is read
 * directly. An unreadable one gives no parent rather than an error: tracing never fails a run.
 */
export function parentContextOf(stored: Record<string, string> | undefined): Context {
  if (!stored) return ROOT_CONTEXT
  const extracted = propagation.extract(ROOT_CONTEXT, stored)
  if (trace.getSpanContext(extracted)) return extracted
  const m = TRACEPARENT.exec(stored.traceparent ?? '')
  if (!m) return ROOT_CONTEXT
  const parent: SpanContext = {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: Number.parseInt(m[3]!, 16),
    isRemote: true,
  }
  return trace.setSpanContext(ROOT_CONTEXT, parent)
}
