import { stepsOf } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { type BackendFactory, newRequests, recordFor, useBackend } from '../harness.js'

/** A W3C trace context as core's OpenTelemetry propagation writes it. */
const TRACE = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'vendor=opaque',
}

/**
 * The caller's trace context travels with the invocation record, so the run's span can be its
 * child in whatever process runs it: every path that stores or returns records keeps it, and a
 * record routed without one comes back without one.
 */
export function describeTraceContext(name: string, factory: BackendFactory): void {
  describe(`${name}: trace context on invocation records`, () => {
    const { components } = useBackend(factory)

    it('the state backend stores it and returns it unchanged; a record without one has none', async () => {
      const { backend } = await components()
      const [a, b] = newRequests(2).map(recordFor)
      await backend.stateBackend.upsertInvocations([{ ...a!, traceContext: TRACE }, b!])
      const [readA, readB] = await backend.stateBackend.getInvocations([a!.id, b!.id])
      expect(readA!.traceContext).toEqual(TRACE)
      expect(readB!.traceContext).toBeUndefined()
    })

    it('the route step stores it and the claim step returns it with the claimed record', async () => {
      const { backend } = await components()
      const reqs = newRequests(2)
      const records = reqs.map(recordFor)
      records[0] = { ...records[0]!, traceContext: TRACE }
      const steps = stepsOf(backend)
      await steps.route(records, reqs)
      const claimed = new Map<string, Record<string, string> | undefined>()
      for (let i = 0; i < 20 && claimed.size < 2; i++) {
        const batch = await steps.claimQueued('trace-runner', 10)
        for (const c of batch.claimed) claimed.set(c.state.id, c.record?.traceContext)
      }
      expect(claimed.get(reqs[0]!.id)).toEqual(TRACE)
      expect(claimed.has(reqs[1]!.id)).toBe(true)
      expect(claimed.get(reqs[1]!.id)).toBeUndefined()
    })
  })
}
