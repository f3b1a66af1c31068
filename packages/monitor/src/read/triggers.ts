import { describeCondition, type Nenc, type TriggerListing } from '@nenc/core'
import { FilterError } from '../filters.js'

export interface TriggerRow extends TriggerListing {
  /** Each condition in a line, as `nenc trigger list` prints it. */
  described: { id: string; kind: string; text: string }[]
}

export interface EventRow {
  id: string
  code: string
  /** The payload as text: pretty JSON when it deserializes, the stored text otherwise. */
  payload: string
  emittedAt: number
}

export interface TriggersPage {
  triggers: TriggerRow[]
  events: EventRow[]
  code: string | undefined
  limit: number
}

export const DEFAULT_EVENT_LIMIT = 50
const MAX_EVENT_LIMIT = 500

/** The `limit` query: how many stored events to show (newest first). */
export function parseEventLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_EVENT_LIMIT
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVENT_LIMIT)
    throw new FilterError('limit', `must be a whole number from 1 to ${MAX_EVENT_LIMIT}, not "${raw}"`)
  return n
}

/**
 * The app's triggers with their last and next cron run (core's `app.triggers.list()`, the same
 * listing as `nenc trigger list`) and the newest stored events, optionally of one code.
 */
export async function readTriggers(
  app: Nenc,
  code: string | undefined,
  limit: number,
  now = Date.now(),
): Promise<TriggersPage> {
  const [listing, events] = await Promise.all([
    app.triggers.list(now),
    app.backend.triggerStore.listEvents({ ...(code ? { code } : {}), limit }),
  ])
  return {
    triggers: listing.map((t) => ({
      ...t,
      described: t.conditions.map((c) => ({ id: c.id, kind: c.spec.kind, text: describeCondition(c.spec) })),
    })),
    events: events.map((e) => ({ ...e, payload: payloadText(app, e.payload) })),
    code,
    limit,
  }
}

function payloadText(app: Nenc, stored: string): string {
  try {
    return JSON.stringify(app.serializer.deserialize(stored), null, 2) ?? stored
  } catch {
    return stored
  }
}
