/**
 * An order saga as a workflow: reserve stock, charge the card, ship — and release the stock when
 * the charge is declined. The first run of each order hits a network blip right after reserving
 * and is retried: the replay gets the same order id back and reuses the reservation instead of
 * reserving twice. Once shipped, the order waits (without holding a runner slot) for the
 * carrier's 'order.delivered' event for its tracking number, and gives up after a timeout.
 */
import { Nenc, RetryError, TaskError, workflow } from '@nenc/core'
import { memoryBackend } from '@nenc/memory'
import { ThreadRunner } from '@nenc/runners'

const app = new Nenc({ appId: 'order-saga', backend: memoryBackend(), runner: new ThreadRunner() })
const effects: string[] = [] // what reached the outside world, in order

class CardDeclinedError extends Error {
  override name = 'CardDeclinedError'
}

const reserve = app.task('reserve', async (orderId: string, sku: string) => {
  effects.push(`reserve ${sku} for ${orderId}`)
  return `rsv-${orderId}`
})
const release = app.task('release', async (reservation: string) => {
  effects.push(`release ${reservation}`)
})
const charge = app.task('charge', async (orderId: string, cents: number) => {
  if (cents > 50_000) throw new CardDeclinedError(`card declined for ${cents} cents`)
  effects.push(`charge ${cents} for ${orderId}`)
  return `pay-${orderId}`
})
const ship = app.task('ship', async (orderId: string) => {
  effects.push(`ship ${orderId}`)
  const tracking = `trk-${orderId}`
  // The carrier's webhook, a little later: it would call app.emitEvent from the web process.
  setTimeout(() => void app.emitEvent('order.delivered', { tracking, signedBy: 'Ada' }), 300)
  return tracking
})

const blipped = new Set<string>()

export const order = app.task(
  'order',
  async (sku: string, cents: number) => {
    const wf = workflow()
    const orderId = `ord-${(await wf.uuid()).slice(0, 8)}` // recorded: the same on every replay
    const reservation = await wf.execute(reserve, orderId, sku)
    if (!blipped.has(orderId)) {
      blipped.add(orderId)
      throw new RetryError('network blip after reserving') // replayed from the top
    }
    try {
      await wf.execute(charge, orderId, cents)
    } catch (err) {
      if (!(err instanceof TaskError) || err.remote.name !== 'CardDeclinedError') throw err
      await wf.execute(release, reservation) // the compensation
      return { orderId, status: 'declined' as const }
    }
    const tracking = await wf.execute(ship, orderId)
    // The first 'order.delivered' for this tracking number emitted from here on; null after 5 s.
    const delivered = await wf.waitForEvent<{ tracking: string; signedBy: string }>('order.delivered', {
      filter: { tracking },
      timeoutMs: 5_000,
    })
    if (!delivered) return { orderId, status: 'lost in transit' as const, tracking }
    return { orderId, status: 'delivered' as const, tracking, signedBy: delivered.payload.signedBy }
  },
  { version: 'order-v1', maxRetries: 2 },
)

await app.runner.start()
const [ok, declined] = await Promise.all([order('book', 2_500), order('piano', 900_000)])
console.log('book:', await ok.result())
console.log('piano:', await declined.result())
console.log('effects (each once, although both orders ran twice):')
for (const e of effects) console.log(`  ${e}`)
await app.purge()
await app.close()
