/**
 * Triggers: one process, memory backend, ThreadRunner. A charge task; tasks called by its results
 * and errors, by an event, by a cron schedule and by two conditions together. The clock of the
 * trigger passes is injected so the cron schedule fires without waiting for the minute.
 */
import { allOf, anyOf, Nenc, onCron, onEvent, onException, onResult, onStatus, predicate } from '@nenc/core'
import { memoryBackend } from '@nenc/memory'
import { ThreadRunner } from '@nenc/runners'

const app = new Nenc({
  appId: 'triggers-example',
  backend: memoryBackend(),
  runner: new ThreadRunner({ maxThreads: 4 }),
  // Trigger passes run in the runner's atomic-service slot; this example calls them itself.
  config: { orchestrator: { atomicServiceCheckMs: 600_000 } },
})

const log: string[] = []

class CardDeclinedError extends Error {
  override name = 'CardDeclinedError'
}

const charge = app.task('charge', async (orderId: string, amountCents: number) => {
  if (amountCents < 0) throw new CardDeclinedError(`card declined for ${orderId}`)
  return { orderId, amountCents }
})

app.task('reviewBigCharge', async (orderId: string) => void log.push(`review big charge ${orderId}`), {
  triggers: [
    onResult(
      charge,
      predicate('bigCharge', (r) => r.amountCents > 10_000),
      { args: (c) => [c.result.orderId] },
    ),
  ],
})

app.task('notifyDeclined', async (message: string) => void log.push(`declined: ${message}`), {
  triggers: [onException(charge, ['CardDeclinedError'], { args: (c) => [c.error.message] })],
})

app.task('ship', async (orderId: string) => void log.push(`ship ${orderId}`), {
  triggers: [
    onEvent<{ orderId: string; currency: string }, [string]>('order.paid', {
      filter: { currency: 'EUR' },
      args: (e) => [e.payload.orderId],
    }),
  ],
})

app.task(
  'hourlyReport',
  async (at: number) => void log.push(`hourly report for ${new Date(at).toISOString()}`),
  {
    triggers: [onCron('0 * * * *', { timezone: 'Europe/Madrid', args: (c) => [c.scheduledAt] })],
  },
)

app.task('closeBooks', async () => void log.push('close books: charge succeeded and day.closed'), {
  triggers: [allOf(onStatus(charge, ['success']), onEvent('day.closed'))],
})

app.task('audit', async (what: string) => void log.push(`audit ${what}`), {
  triggers: [anyOf(onEvent('refund.requested'), onException(charge)).with({ args: (c) => [c.kind] })],
})

async function settle(passAt: number): Promise<void> {
  await app.triggers.evaluate(passAt)
  await new Promise((r) => setTimeout(r, 200)) // let the runner run what the pass routed
}

await app.runner.start()
const hour = 3_600_000
const t = Math.floor(Date.now() / hour) * hour
await settle(t - 60_000) // first pass: the cron schedule is anchored here

await Promise.allSettled(
  (await Promise.all([charge('o-1', 25_000), charge('o-2', -5)])).map((i) => i.result()),
)
await app.emitEvent('order.paid', { orderId: 'o-1', currency: 'EUR' })
await app.emitEvent('order.paid', { orderId: 'o-3', currency: 'USD' }) // filtered out
await app.emitEvent('day.closed')
await app.emitEvent('refund.requested', { orderId: 'o-1' })
await settle(Date.now())
await settle(t + 5_000) // the top of the hour has passed: hourlyReport fires once
await settle(t + 10_000) // nothing new

console.log(log.sort().join('\n'))
const events = await app.backend.triggerStore.listEvents()
console.log(`${events.length} events stored, newest: ${events[0]?.code}`)
await app.close()
