import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { InvocationState } from '../interfaces/orchestrator.js'
import type { InvocationRecord } from '../interfaces/state-backend.js'
import { instruments } from './instruments.js'
import { parentContextOf } from './trace-context.js'

export type RunEnd = 'success' | 'failed' | 'retry'

/**
 * The telemetry of one run: its span (child of the caller's, from the stored trace context) and
 * its metrics. Without an OpenTelemetry SDK the span is the API's non-recording one and nothing
 * more is done for it; the metric calls are the API's no-ops.
 */
export class RunTelemetry {
  private readonly span: Span | null
  private readonly startedAt = Date.now()
  private readonly attributes: { 'nenc.task': string }

  constructor(appId: string, runnerId: string, state: InvocationState, record: InvocationRecord) {
    this.attributes = { 'nenc.task': record.taskName }
    const m = instruments()
    m.started.add(1, this.attributes)
    // The first run's wait since routing; later attempts waited on a retry delay or recovery.
    if (state.attempt <= 1 && state.retries === 0)
      m.queueWait.record(this.startedAt - record.createdAt, this.attributes)
    const span = trace.getTracer('@nenc/core').startSpan(
      `nenc.run ${record.taskName}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'nenc.app_id': appId,
          'nenc.task': record.taskName,
          'nenc.invocation.id': state.id,
          'nenc.attempt': state.attempt,
          'nenc.retries': state.retries,
          'nenc.runner.id': runnerId,
          ...(record.parentId ? { 'nenc.parent.id': record.parentId } : {}),
        },
      },
      parentContextOf(record.traceContext),
    )
    this.span = span.isRecording() ? span : null
  }

  /** Runs `fn` with the run's span active, so calls routed inside the task become its children. */
  within<T>(fn: () => T): T {
    return this.span ? context.with(trace.setSpan(context.active(), this.span), fn) : fn()
  }

  /** The run ended with this outcome (`err` when it threw). */
  end(outcome: RunEnd, err?: unknown): void {
    const m = instruments()
    const attrs = { ...this.attributes, 'nenc.status': outcome }
    m.finished.add(1, attrs)
    m.runTime.record(Date.now() - this.startedAt, attrs)
    if (outcome === 'retry') m.retries.add(1, this.attributes)
    if (!this.span) return
    this.span.setAttribute('nenc.status', outcome)
    if (err !== undefined) {
      this.span.recordException(err instanceof Error ? err : String(err))
      this.span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      })
    }
    this.span.end()
  }

  /** The run was killed (runner stop, recovery): no outcome; the span ends marked so. */
  killed(): void {
    if (!this.span) return
    this.span.setAttribute('nenc.status', 'killed')
    this.span.end()
  }
}
