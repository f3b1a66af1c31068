import type { EventCursor, ListEventsQuery, StoredEvent, TriggerDefinition, TriggerStore } from '@nenc/core'
import { corrupt } from './errors-from-code.js'
import { addEvent } from './lua/add-event.js'
import { addValidConditions } from './lua/add-valid-conditions.js'
import { clearValidConditions } from './lua/clear-valid-conditions.js'
import { getValidConditions } from './lua/get-valid-conditions.js'
import { setLastCronExecution } from './lua/set-last-cron-execution.js'
import { RedisComponent } from './redis-component.js'

type ValidCondition = { id: string; conditionId: string; context: string }

function parseJson(raw: string, location: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    throw corrupt(location, 'it is not JSON')
  }
}

function isTrigger(t: unknown): t is TriggerDefinition {
  const d = t as Partial<TriggerDefinition> | null
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.id === 'string' &&
    typeof d.taskId === 'string' &&
    Array.isArray(d.conditionIds) &&
    (d.logic === 'and' || d.logic === 'or') &&
    typeof d.spec === 'string'
  )
}

/**
 * Trigger definitions (one hash field per task, so replacing a task's triggers is one atomic
 * HSET), valid conditions (hash plus an order zset, changed together by scripts), cron
 * compare-and-set (script), run claims (`SET NX PX`) and events (hash plus zsets by time, all and
 * per code, trimmed to the retention by the script that adds one).
 */
export class RedisTriggerStore extends RedisComponent implements TriggerStore {
  protected readonly component = 'triggerStore' as const

  async setTaskTriggers(taskId: string, triggers: readonly TriggerDefinition[]): Promise<void> {
    const key = this.keys.fixed('triggers')
    await this.conn.command('setTaskTriggers', (c) =>
      triggers.length ? c.hset(key, taskId, JSON.stringify(triggers)) : c.hdel(key, taskId),
    )
  }

  async getTriggers(conditionId?: string): Promise<TriggerDefinition[]> {
    const key = this.keys.fixed('triggers')
    const values = await this.conn.command('getTriggers', (c) => c.hvals(key))
    const all = values.flatMap((raw) => {
      const list = parseJson(raw, key)
      if (!Array.isArray(list) || !list.every(isTrigger)) throw corrupt(key, 'it is not a trigger list')
      return list
    })
    return conditionId === undefined ? all : all.filter((t) => t.conditionIds.includes(conditionId))
  }

  private get validKeys(): string[] {
    return [this.keys.fixed('validConditions'), this.keys.fixed('validOrder')]
  }

  async addValidConditions(items: readonly ValidCondition[]): Promise<void> {
    if (items.length === 0) return
    const args: string[] = [this.keys.prefix]
    for (const it of items)
      args.push(it.id, JSON.stringify({ conditionId: it.conditionId, context: it.context }))
    await this.run(addValidConditions, this.validKeys, args)
  }

  async getValidConditions(): Promise<ValidCondition[]> {
    const reply = (await this.run(getValidConditions, this.validKeys, [this.keys.prefix])) as string[]
    const out: ValidCondition[] = []
    for (let i = 0; i < reply.length; i += 2) {
      const v = parseJson(reply[i + 1]!, this.validKeys[0]!) as Partial<ValidCondition> | null
      if (typeof v?.conditionId !== 'string' || typeof v.context !== 'string')
        throw corrupt(this.validKeys[0]!, 'it is not a valid-condition entry')
      out.push({ id: reply[i]!, conditionId: v.conditionId, context: v.context })
    }
    return out
  }

  async clearValidConditions(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    await this.run(clearValidConditions, this.validKeys, [this.keys.prefix, ...ids])
  }

  async getLastCronExecution(conditionId: string): Promise<number | null> {
    const key = this.keys.fixed('cron')
    const raw = await this.conn.command('getLastCronExecution', (c) => c.hget(key, conditionId))
    if (raw === null) return null
    const value = Number(raw)
    if (!Number.isFinite(value)) throw corrupt(key, `the value of ${conditionId} is not a number`)
    return value
  }

  async setLastCronExecution(conditionId: string, expected: number | null, next: number): Promise<boolean> {
    const args = [this.keys.prefix, conditionId, expected === null ? '' : String(expected), String(next)]
    return (await this.run(setLastCronExecution, [this.keys.fixed('cron')], args)) === 1
  }

  async claimTriggerRun(runId: string, ttlMs: number): Promise<boolean> {
    // A claim that expires at once never blocks a later one (as in memory): nothing to store.
    if (!(ttlMs >= 1)) return true
    const key = this.keys.of('triggerRun', runId)
    const ok = await this.conn.command('claimTriggerRun', (c) =>
      c.set(key, '1', 'PX', Math.ceil(ttlMs), 'NX'),
    )
    return ok === 'OK'
  }

  async addEvent(event: StoredEvent, retentionMs: number): Promise<void> {
    await this.run(
      addEvent,
      [this.keys.fixed('events'), this.keys.fixed('eventOrder'), this.keys.of('eventsByCode', event.code)],
      [this.keys.prefix, event.id, JSON.stringify(event), event.emittedAt, event.emittedAt - retentionMs],
    )
  }

  async listEvents(query: ListEventsQuery = {}): Promise<StoredEvent[]> {
    const limit = query.limit ?? 100
    if (limit <= 0) return []
    const order =
      query.code === undefined ? this.keys.fixed('eventOrder') : this.keys.of('eventsByCode', query.code)
    const hash = this.keys.fixed('events')
    const raws = await this.conn.command('listEvents', async (c) => {
      const ids = await c.zrevrange(order, 0, limit - 1)
      return ids.length ? c.hmget(hash, ...ids) : []
    })
    return this.decodeEvents(raws, hash)
  }

  async listEventsAfter(code: string, after: EventCursor, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return []
    const order = this.keys.of('eventsByCode', code)
    const hash = this.keys.fixed('events')
    const raws = await this.conn.command('listEventsAfter', async (c) => {
      // A zset orders equal scores by member bytewise, so the events at the cursor's time that
      // are not after it are a prefix of that time's block: skip them, page on until `limit`.
      const ids: string[] = []
      for (let offset = 0; ids.length < limit; offset += limit) {
        const page = await c.zrangebyscore(
          order,
          after.emittedAt,
          '+inf',
          'WITHSCORES',
          'LIMIT',
          offset,
          limit,
        )
        for (let i = 0; i < page.length; i += 2)
          if (Number(page[i + 1]) > after.emittedAt || page[i]! > after.id) ids.push(page[i]!)
        if (page.length < 2 * limit) break
      }
      ids.length = Math.min(ids.length, limit)
      return ids.length ? c.hmget(hash, ...ids) : []
    })
    return this.decodeEvents(raws, hash)
  }

  private decodeEvents(raws: (string | null)[], hash: string): StoredEvent[] {
    return raws.flatMap((raw) => {
      if (raw === null) return [] // trimmed between the two reads
      const e = parseJson(raw, hash) as Partial<StoredEvent> | null
      if (
        typeof e?.id !== 'string' ||
        typeof e.code !== 'string' ||
        typeof e.payload !== 'string' ||
        typeof e.emittedAt !== 'number'
      )
        throw corrupt(hash, 'it is not a stored event')
      return [{ id: e.id, code: e.code, payload: e.payload, emittedAt: e.emittedAt }]
    })
  }
}
