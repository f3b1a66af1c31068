import {
  CoalescingNotifier,
  checkRecordQuery,
  type InvocationPage,
  type InvocationRecord,
  type Outcome,
  type OutcomeRef,
  type ProgressRecord,
  pageOfPositions,
  type RecordPageQuery,
  type RunnerContextRecord,
  type StateBackend,
  type Unsubscribe,
} from '@nenc/core'
import { MemoryComponent } from './component-base.js'

/** Invocation records, outcomes, workflow data and runner contexts in maps. */
export class MemoryStateBackend extends MemoryComponent implements StateBackend {
  private readonly records = new Map<string, InvocationRecord>()
  private readonly children = new Map<string, string[]>()
  private readonly outcomes = new Map<string, Outcome>()
  private readonly workflowData = new Map<string, string>()
  private readonly runners = new Map<string, RunnerContextRecord>()
  private readonly progress = new Map<string, ProgressRecord>()
  private readonly progressListeners = new CoalescingNotifier<ProgressRecord>()

  async upsertInvocations(records: readonly InvocationRecord[]): Promise<void> {
    for (const r of records) {
      if (!this.records.has(r.id) && r.parentId) {
        const list = this.children.get(r.parentId) ?? []
        list.push(r.id)
        this.children.set(r.parentId, list)
      }
      this.records.set(r.id, r)
    }
  }

  async getInvocations(ids: readonly string[]): Promise<(InvocationRecord | null)[]> {
    return ids.map((id) => this.records.get(id) ?? null)
  }

  async getChildInvocations(parentId: string): Promise<string[]> {
    return [...(this.children.get(parentId) ?? [])]
  }

  /** Scans every record: the memory backend holds one process's invocations. */
  async listInvocationRecords(q: RecordPageQuery): Promise<InvocationPage> {
    checkRecordQuery(q)
    const matches = [...this.records.values()].filter((r) =>
      q.workflowId !== undefined ? r.workflow.id === q.workflowId : r.parentId === q.parentId,
    )
    return pageOfPositions(matches, q)
  }

  async deleteInvocations(ids: readonly string[]): Promise<void> {
    const gone = new Set(ids)
    for (const id of gone) {
      const parentId = this.records.get(id)?.parentId
      this.records.delete(id)
      this.children.delete(id)
      this.progress.delete(id)
      if (parentId) {
        const siblings = this.children.get(parentId)?.filter((c) => c !== id)
        if (siblings?.length) this.children.set(parentId, siblings)
        else this.children.delete(parentId)
      }
    }
    for (const key of this.outcomes.keys())
      if (gone.has(key.slice(0, key.indexOf('\u0000')))) this.outcomes.delete(key)
  }

  /** Write-once per (id, attempt): a late write of an attempt that already has one is dropped. */
  async setOutcomes(items: readonly (OutcomeRef & { outcome: Outcome })[]): Promise<void> {
    for (const it of items) {
      const key = outcomeKey(it)
      if (!this.outcomes.has(key)) this.outcomes.set(key, it.outcome)
    }
  }

  async getOutcomes(refs: readonly OutcomeRef[]): Promise<(Outcome | null)[]> {
    return refs.map((r) => this.outcomes.get(outcomeKey(r)) ?? null)
  }

  async getWorkflowData(workflowId: string, key: string): Promise<string | null> {
    return this.workflowData.get(`${workflowId}\u0000${key}`) ?? null
  }

  async setWorkflowData(workflowId: string, key: string, value: string): Promise<void> {
    this.workflowData.set(`${workflowId}\u0000${key}`, value)
  }

  async setProgress(items: readonly ProgressRecord[]): Promise<void> {
    const stored: ProgressRecord[] = []
    for (const it of items) {
      const current = this.progress.get(it.id)
      if (current && current.attempt > it.attempt) continue
      const record = { ...it }
      this.progress.set(it.id, record)
      stored.push(record)
    }
    this.progressListeners.emit(stored)
  }

  async getProgress(ids: readonly string[]): Promise<(ProgressRecord | null)[]> {
    return ids.map((id) => {
      const r = this.progress.get(id)
      return r ? { ...r } : null
    })
  }

  async subscribeProgress(listener: (records: ProgressRecord[]) => void): Promise<Unsubscribe> {
    return this.progressListeners.add(listener)
  }

  async storeRunnerContext(ctx: RunnerContextRecord): Promise<void> {
    this.runners.set(ctx.runnerId, ctx)
  }

  async getRunnerContext(runnerId: string): Promise<RunnerContextRecord | null> {
    return this.runners.get(runnerId) ?? null
  }

  async purge(): Promise<void> {
    this.records.clear()
    this.children.clear()
    this.outcomes.clear()
    this.workflowData.clear()
    this.runners.clear()
    this.progress.clear()
  }
}

/** One map key per attempt's outcome (NUL cannot occur in an id). */
const outcomeKey = (r: OutcomeRef): string => `${r.id}\u0000${r.attempt}`
