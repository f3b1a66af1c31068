import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  allOf,
  anyOf,
  type Backend,
  type CronContext,
  Nenc,
  onCron,
  onEvent,
  onException,
  onResult,
  onStatus,
  TriggerDefinitionError,
} from '../../src/index.js'

// Compile-time checks (pnpm typecheck): trigger arguments are checked against the task's parameters.
describe('trigger types', () => {
  it('checks argument providers against the task', () => {
    const c = { backendName: 'inert', inMemory: true, init: async () => {}, close: async () => {} }
    const backend = {
      broker: c,
      orchestrator: c,
      stateBackend: c,
      clientDataStore: c,
      triggerStore: c,
    } as unknown as Backend
    const app = new Nenc({ appId: 'types', backend, env: {} })
    const charge = app.task('charge', async (orderId: string, cents: number) => ({
      amountCents: cents,
      orderId,
    }))
    app.task('report', async () => 'done', {
      triggers: [onCron('0 * * * *'), onEvent('x'), onStatus(charge, ['failed'])],
    })
    app.task('refund', async (_orderId: string) => true, {
      triggers: [
        onResult(charge, (r) => r.amountCents > 10_000, { args: (ctx) => [ctx.result.orderId] }),
        onStatus(charge, ['failed'], { args: (ctx) => [ctx.args[0]] }),
        onException(charge, ['CardDeclinedError'], { args: ['static-id'] }),
        // The payload type comes from the filter, or is given: onEvent<Payload, Args>(…).
        onEvent('order.paid', { filter: { orderId: 'a' }, args: (e) => [e.payload.orderId] }),
        onEvent<{ orderId: string }, [string]>('order.paid', { args: (e) => [e.payload.orderId] }),
        onCron('0 * * * *', {
          args: (c) => {
            expectTypeOf(c).toEqualTypeOf<CronContext>()
            return [String(c.scheduledAt)]
          },
        }),
        allOf(onCron('0 * * * *'), onEvent('e')).with({ args: (all) => [String(all.contexts.length)] }),
        anyOf(onCron('0 * * * *'), onResult(charge)).with({
          args: (one) => [one.kind === 'result' ? one.result.orderId : 'cron'],
        }),
      ],
    })
    // Also refused when declared (the runtime check), hence the throws.
    expect(() =>
      app.task('needsArgs', async (_n: number) => 1, {
        // @ts-expect-error a trigger without arguments for a task that takes one
        triggers: [onCron('0 * * * *')],
      }),
    ).toThrow(TriggerDefinitionError)
    // A string where a number goes is a type error only: values are not type-checked at run time.
    app.task('wrongType', async (_n: number) => 1, {
      triggers: [
        // @ts-expect-error a string where the task takes a number
        onEvent('e', { args: ['1'] }),
      ],
    })
  })
})
