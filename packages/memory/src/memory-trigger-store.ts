import type { EventCursor, ListEventsQuery, StoredEvent, TriggerDefinition, TriggerStore } from '@nenc/core'
import { MemoryComponent } from './component-base.js'

/** Trigger definitions, valid conditions, cron bookkeeping, run claims and events in maps. */
export class MemoryTriggerStore extends MemoryComponent implements TriggerStore {
  private readonly byTask = new Map<string, TriggerDefinition[]>()
  private readonly valid = new Map<string, { id: string; conditionId: string; context: string }>()
  private readonly cron = new Map<string, number>()
  private readonly runs = new Map<string, number>()
  /** Events in insertion order (emission order within this process). */
  private events: StoredEvent[] = []

  async setTaskTriggers(taskId: string, triggers: readonly TriggerDefinition[]): Promise<void> {
    this.byTask.set(taskId, [...triggers])
  }

  async getTriggers(conditionId?: string): Promise<TriggerDefinition[]> {
    const all = [...this.byTask.values()].flat()
    return conditionId === undefined ? all : all.filter((t) => t.conditionIds.includes(conditionId))
  }

  async addValidConditions(
    items: readonly { id: string; conditionId: string; context: string }[],
  ): Promise<void> {
    for (const it of items) if (!this.valid.has(it.id)) this.valid.set(it.id, { ...it })
  }

  async getValidConditions(): Promise<{ id: string; conditionId: string; context: string }[]> {
    return [...this.valid.values()].map((v) => ({ ...v }))
  }

  async clearValidConditions(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.valid.delete(id)
  }

  async getLastCronExecution(conditionId: string): Promise<number | null> {
    return this.cron.get(conditionId) ?? null
  }

  async setLastCronExecution(conditionId: string, expected: number | null, next: number): Promise<boolean> {
    if ((this.cron.get(conditionId) ?? null) !== expected) return false
    this.cron.set(conditionId, next)
    return true
  }

  async claimTriggerRun(runId: string, ttlMs: number): Promise<boolean> {
    const now = Date.now()
    const until = this.runs.get(runId)
    if (until !== undefined && until > now) return false
    this.runs.set(runId, now + ttlMs)
    return true
  }

  async addEvent(event: StoredEvent, retentionMs: number): Promise<void> {
    const oldest = event.emittedAt - retentionMs
    this.events = this.events.filter((e) => e.emittedAt >= oldest && e.id !== event.id)
    this.events.push({ ...event })
  }

  async listEvents(query: ListEventsQuery = {}): Promise<StoredEvent[]> {
    const limit = query.limit ?? 100
    return this.events
      .filter((e) => query.code === undefined || e.code === query.code)
      .sort((a, b) => b.emittedAt - a.emittedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit)
      .map((e) => ({ ...e }))
  }

  async listEventsAfter(code: string, after: EventCursor, limit: number): Promise<StoredEvent[]> {
    const isAfter = (e: StoredEvent) =>
      e.emittedAt > after.emittedAt || (e.emittedAt === after.emittedAt && e.id > after.id)
    return this.events
      .filter((e) => e.code === code && isAfter(e))
      .sort((a, b) => a.emittedAt - b.emittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, Math.max(0, limit))
      .map((e) => ({ ...e }))
  }

  async purge(): Promise<void> {
    this.events = []
    this.byTask.clear()
    this.valid.clear()
    this.cron.clear()
    this.runs.clear()
  }
}
