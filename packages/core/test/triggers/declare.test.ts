import { describe, expect, it } from 'vitest'
import {
  allOf,
  anyOf,
  type Backend,
  Nenc,
  onCron,
  onEvent,
  onException,
  onResult,
  onStatus,
  predicate,
  TriggerDefinitionError,
} from '../../src/index.js'

const c = { backendName: 'inert', inMemory: true, init: async () => {}, close: async () => {} }
const backend = {
  broker: c,
  orchestrator: c,
  stateBackend: c,
  clientDataStore: c,
  triggerStore: c,
} as unknown as Backend
const newApp = (appId = 'decl') => new Nenc({ appId, backend, env: {} })

function declareError(fn: () => unknown): TriggerDefinitionError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(TriggerDefinitionError)
    return err as TriggerDefinitionError
  }
  throw new Error('expected a TriggerDefinitionError')
}

describe('trigger declaration', () => {
  it('rejects an invalid cron expression, saying which task and trigger', () => {
    const app = newApp()
    const err = declareError(() =>
      app.task('t', () => 1, { triggers: [onCron('0 * * * *'), onCron('61 * * * *')] }),
    )
    expect(err.code).toBe('TRIGGER_DEFINITION')
    expect(err.task).toBe('t')
    expect(err.trigger).toBe(1)
    expect(err.message).toMatch(/invalid cron expression "61 \* \* \* \*"/)
    expect(app.getTask('t')).toBeUndefined()
  })

  it('rejects cron expressions without five fields', () => {
    const app = newApp()
    expect(declareError(() => app.task('t', () => 1, { triggers: [onCron('* * * * * *')] })).message).toMatch(
      /five fields/,
    )
    expect(declareError(() => app.task('u', () => 1, { triggers: [onCron('bad')] })).message).toMatch(
      /five fields/,
    )
  })

  it('rejects an unknown time zone', () => {
    const app = newApp()
    const err = declareError(() =>
      app.task('t', () => 1, { triggers: [onCron('0 * * * *', { timezone: 'Mars/Olympus' })] }),
    )
    expect(err.message).toMatch(/unknown time zone "Mars\/Olympus"/)
  })

  it('rejects a condition on a task of another app', () => {
    const other = newApp('other')
    const charge = other.task('charge', async (n: number) => n)
    const app = newApp()
    const err = declareError(() => app.task('t', () => 1, { triggers: [onStatus(charge, ['failed'])] }))
    expect(err.message).toMatch(/belongs to another app/)
  })

  it('rejects arguments that do not fit the task', () => {
    const app = newApp()
    expect(
      declareError(() =>
        app.task('needs', (_a: number, _b: number) => 1, { triggers: [onEvent('x') as never] }),
      ).message,
    ).toMatch(/takes 2 argument\(s\) but the trigger gives none/)
    expect(
      declareError(() =>
        app.task('short', (_a: number, _b: number) => 1, {
          triggers: [onEvent('x', { args: [1] }) as never],
        }),
      ).message,
    ).toMatch(/takes 2 argument\(s\) but the trigger gives 1/)
    expect(
      declareError(() =>
        app.task('unserializable', (_a: unknown) => 1, { triggers: [onEvent('x', { args: [() => 1] })] }),
      ).message,
    ).toMatch(/serialize/i)
  })

  it('rejects statuses that cannot be watched, and nested combinations', () => {
    const app = newApp()
    const charge = app.task('charge', async () => 1)
    expect(
      declareError(() => app.task('t', () => 1, { triggers: [onStatus(charge, ['running' as never])] }))
        .message,
    ).toMatch(/cannot be watched/)
    expect(
      declareError(() =>
        app.task('u', () => 1, { triggers: [allOf(onEvent('a'), anyOf(onEvent('b'), onEvent('c')))] }),
      ).message,
    ).toMatch(/single conditions/)
    expect(
      declareError(() =>
        app.task('v', () => 1, { triggers: [allOf(onEvent('a', { args: [] }), onEvent('b'))] }),
      ).message,
    ).toMatch(/own `args`/)
  })

  it('rejects one predicate name bound to two functions', () => {
    const app = newApp()
    const charge = app.task('charge', async () => 1)
    app.task('a', () => 1, {
      triggers: [
        onResult(
          charge,
          predicate('big', (r) => r > 1),
        ),
      ],
    })
    expect(
      declareError(() =>
        app.task('b', () => 1, {
          triggers: [
            onResult(
              charge,
              predicate('big', (r) => r > 2),
            ),
          ],
        }),
      ).message,
    ).toMatch(/predicate "big" is already registered/)
  })

  it('derives the same ids from the same content in two apps (every runner computes the same)', () => {
    const ids = () => {
      const app = newApp()
      const charge = app.task('charge', async (n: number) => ({ amountCents: n }))
      app.task('report', () => 1, {
        triggers: [
          onCron('0  * * * *', { timezone: 'Europe/Madrid' }),
          onEvent('order.paid', { filter: { currency: 'EUR', region: 'es' } }),
          onException(charge, ['CardDeclinedError']),
          allOf(
            onStatus(charge, ['failed', 'success']),
            onResult(charge, (r) => r.amountCents > 10_000),
          ),
        ],
      })
      return app.triggers.registry.triggers.map((t) => [t.id, t.conditions.map((x) => x.id)])
    }
    const a = ids()
    expect(a).toEqual(ids())
    expect(new Set(a.map(([id]) => id)).size).toBe(4)
    // Key order in an equality filter and whitespace in a cron expression do not change ids.
    const app = newApp()
    app.task('report', () => 1, {
      triggers: [
        onEvent('order.paid', { filter: { region: 'es', currency: 'EUR' } }),
        onCron('0 * * * *', { timezone: 'Europe/Madrid' }),
      ],
    })
    const conds = app.triggers.registry.triggers.map((t) => t.conditions[0]!.id)
    expect(conds[0]).toBe((a[1]![1] as string[])[0])
    expect(conds[1]).toBe((a[0]![1] as string[])[0])
  })

  it('an app without triggers evaluates nothing and touches no store', async () => {
    const app = newApp()
    app.task('plain', () => 1)
    expect(app.triggers.hasTriggers).toBe(false)
    // The inert trigger store has no methods: any call would throw.
    expect(await app.triggers.evaluate()).toEqual({
      cronTicks: 0,
      fired: [],
      skippedOverlap: 0,
      failedArgs: 0,
      cleared: 0,
      recovered: 0,
    })
    await app.triggers.reportFinished([
      { invocationId: 'i', taskName: 'plain', args: '[]', status: 'success', outcome: '1' },
    ])
  })
})

describe('app.emitEvent input', () => {
  it('refuses an empty code and a payload the serializer refuses, before touching the backend', async () => {
    const app = newApp()
    await expect(app.emitEvent('')).rejects.toMatchObject({ code: 'INVALID_EVENT' })
    await expect(app.emitEvent('x', { f: () => 1 })).rejects.toMatchObject({ code: 'SERIALIZATION' })
  })
})

describe('predicates at the source', () => {
  it('a predicate that throws, or that this process does not know, does not satisfy its condition', async () => {
    const { matchEvent } = await import('../../src/triggers/source-matching.js')
    const { PredicateRegistry } = await import('../../src/triggers/predicates.js')
    const app = newApp()
    app.task('t', () => 1, {
      triggers: [
        onEvent('boom', {
          filter: predicate('throws', () => {
            throw new Error('bad filter')
          }),
        }),
        onEvent('ok', { filter: predicate('isOk', (p: { ok: boolean }) => p.ok) }),
      ],
    })
    const deps = {
      registry: app.triggers.registry,
      predicates: app.triggers.predicates,
      serializer: app.serializer,
      logger: app.logger,
    }
    const event = (code: string, payload: unknown) => ({
      eventId: 'e',
      code,
      payload,
      payloadText: '{}',
      emittedAt: 1,
    })
    expect(matchEvent(deps, event('boom', {}))).toEqual([])
    expect(matchEvent(deps, event('ok', { ok: true }))).toHaveLength(1)
    expect(matchEvent(deps, event('ok', { ok: false }))).toEqual([])
    // Another process that loaded a module without that predicate.
    expect(matchEvent({ ...deps, predicates: new PredicateRegistry() }, event('ok', { ok: true }))).toEqual(
      [],
    )
  })
})
