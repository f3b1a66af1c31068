import {
  type Counter,
  createNoopMeter,
  type Histogram,
  type MeterProvider,
  metrics,
} from '@opentelemetry/api'

/** nenc's metrics; names and attributes are listed in docs/operations.md#metrics-and-traces. */
export interface NencInstruments {
  routed: Counter
  started: Counter
  finished: Counter
  retries: Counter
  queueWait: Histogram
  runTime: Histogram
}

let cached: { provider: MeterProvider; instruments: NencInstruments; noop: boolean } | null = null

// The API's no-op counter class: instruments of that class record nothing, so a run need not
// build their attributes (a provider is compared, never a private API of the package read).
const NOOP_COUNTER = createNoopMeter().createCounter('nenc.noop').constructor

/**
 * The instruments of the meter provider registered now. A meter obtained before an SDK is
 * registered stays a no-op forever, so the instruments are rebuilt when the global provider
 * changes; otherwise this is one comparison. Without an SDK they are the API's no-ops.
 */
export function instruments(): NencInstruments {
  return current().instruments
}

/** True while the registered meter provider is the API's no-op one (no metrics SDK). */
export function metricsAreNoop(): boolean {
  return current().noop
}

function current(): NonNullable<typeof cached> {
  const provider = metrics.getMeterProvider()
  if (cached?.provider === provider) return cached
  const meter = provider.getMeter('@nenc/core')
  const made: NencInstruments = {
    routed: meter.createCounter('nenc.invocations.routed', {
      description: 'Invocations created by routing calls (reused ones not counted)',
    }),
    started: meter.createCounter('nenc.invocations.started', {
      description: 'Runs started (one per attempt)',
    }),
    finished: meter.createCounter('nenc.invocations.finished', {
      description: 'Runs ended, by outcome (nenc.status: success, failed, retry)',
    }),
    retries: meter.createCounter('nenc.invocations.retries', { description: 'Retries scheduled' }),
    queueWait: meter.createHistogram('nenc.invocation.queue_wait', {
      description: 'From routing to the start of the first run',
      unit: 'ms',
    }),
    runTime: meter.createHistogram('nenc.invocation.run_time', {
      description: 'From the start of a run to its end, by outcome',
      unit: 'ms',
    }),
  }
  cached = { provider, instruments: made, noop: made.started.constructor === NOOP_COUNTER }
  return cached
}
