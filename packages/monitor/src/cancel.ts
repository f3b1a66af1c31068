import { CANCELABLE_STATUSES, CancelRefusedError, InvocationNotFoundError, type Nenc } from '@nenc/core'
import { ActionError, MAX_BULK } from './actions.js'
import type { ListFilters } from './filters.js'
import { listPage } from './read/listing.js'

/**
 * Cancels one invocation through core (`invocation.cancel()`): a not-yet-running invocation moves
 * to CANCELED. A refusal (it runs or ran) or an unknown id becomes an ActionError, so the user
 * sees core's message on a 409 page instead of an error page.
 */
export async function cancelOne(app: Nenc, id: string): Promise<void> {
  try {
    await app.invocation(id).cancel()
  } catch (err) {
    if (err instanceof CancelRefusedError || err instanceof InvocationNotFoundError)
      throw new ActionError(err.message)
    throw err
  }
}

/** What a bulk cancel did: the ids it canceled, and those that started running meanwhile. */
export interface BulkCancel {
  canceled: string[]
  refused: { id: string; reason: string }[]
}

/**
 * Cancels every invocation matching the filter that has not started running (the statuses in
 * CANCELABLE_STATUSES, narrowed by the filter's own statuses when it names some). One that a
 * runner claims between the listing and its cancel is refused by core and reported, not thrown.
 */
export async function cancelMatching(
  app: Nenc,
  filter: ListFilters,
  masked: ReadonlySet<string> = new Set(),
): Promise<BulkCancel> {
  const statuses =
    filter.statuses.length === 0
      ? [...CANCELABLE_STATUSES]
      : filter.statuses.filter((s) => CANCELABLE_STATUSES.includes(s))
  if (statuses.length === 0)
    throw new ActionError(
      `None of the filter's statuses can be canceled: only ${CANCELABLE_STATUSES.join(', ')} can.`,
    )
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page = await listPage(app, { ...filter, statuses, cursor: cursor ?? undefined }, 500, masked)
    for (const r of page.rows) if (statuses.includes(r.state.status)) ids.push(r.state.id)
    if (ids.length > MAX_BULK)
      throw new ActionError(`More than ${MAX_BULK} cancelable invocations match: narrow the filter.`)
    cursor = page.next
  } while (cursor)
  const out: BulkCancel = { canceled: [], refused: [] }
  for (const id of ids) {
    try {
      await cancelOne(app, id)
      out.canceled.push(id)
    } catch (err) {
      if (!(err instanceof ActionError)) throw err
      out.refused.push({ id, reason: err.message })
    }
  }
  return out
}
