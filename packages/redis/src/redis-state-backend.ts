import {
  CorruptDataError,
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
import { getOutcomes, setOutcomes } from './lua/outcomes.js'
import { setProgress } from './lua/progress.js'
import { upsertInvocations } from './lua/upsert-invocations.js'
import { RedisComponent } from './redis-component.js'
import {
  encodeOutcome,
  parseOutcome,
  parseProgress,
  parseProgressMessage,
  parseRecord,
  parseRunnerContext,
} from './state-codec.js'

/**
 * Invocation records, outcomes, workflow data and runner contexts. Every batch method is one
 * command (MSET / MGET) or one script, and writes before it resolves. Outcomes are kept per
 * attempt in one hash per invocation (field = attempt), write-once.
 */
export class RedisStateBackend extends RedisComponent implements StateBackend {
  protected readonly component = 'stateBackend' as const
  private readonly subscriptions = new Set<Unsubscribe>()

  async upsertInvocations(records: readonly InvocationRecord[]): Promise<void> {
    if (records.length === 0) return
    if (records.every((r) => !r.parentId)) {
      // No children lists to maintain: one MSET.
      const pairs: string[] = []
      for (const r of records) pairs.push(this.keys.of('record', r.id), JSON.stringify(r))
      await this.conn.command('upsertInvocations', (c) => c.mset(pairs))
      return
    }
    const args: string[] = [this.keys.prefix]
    for (const r of records) args.push(r.id, JSON.stringify(r), r.parentId ?? '')
    await this.run(upsertInvocations, [], args)
  }

  async getInvocations(ids: readonly string[]): Promise<(InvocationRecord | null)[]> {
    if (ids.length === 0) return []
    const keys = ids.map((id) => this.keys.of('record', id))
    const values = await this.conn.command('getInvocations', (c) => c.mget(keys))
    return values.map((raw, i) => (raw == null ? null : parseRecord(raw, ids[i]!, keys[i]!)))
  }

  /** @internal Parses a record a script read (the fused claim steps): the record, null, or why it cannot be read. */
  decodeRecord(raw: string | null, id: string): InvocationRecord | null | CorruptDataError {
    if (raw === null) return null
    try {
      return parseRecord(raw, id, this.keys.of('record', id))
    } catch (err) {
      if (err instanceof CorruptDataError) return err
      throw err
    }
  }

  /** @internal Parses an outcome a script read (the fused read-final step). */
  decodeOutcome(raw: string | null, id: string): Outcome | null {
    return raw === null ? null : parseOutcome(raw, this.keys.of('outcome', id))
  }

  async getChildInvocations(parentId: string): Promise<string[]> {
    const key = this.keys.of('children', parentId)
    return this.conn.command('getChildInvocations', (c) => c.lrange(key, 0, -1))
  }

  /**
   * Reads the parent's children list, or walks a workflow's tree from its root through the
   * children lists (one LRANGE pipeline and one MGET per level), then pages in process. No index
   * is kept for it, so routing writes nothing more; the cost is the size of that family, paid by
   * each page (see the README).
   */
  async listInvocationRecords(q: RecordPageQuery): Promise<InvocationPage> {
    checkRecordQuery(q)
    if (q.parentId !== undefined) {
      const ids = await this.getChildInvocations(q.parentId)
      const records = await this.getInvocations(ids)
      return pageOfPositions(
        records.filter((r) => r !== null),
        q,
      )
    }
    const workflowId = q.workflowId!
    const members: InvocationRecord[] = []
    let level = (await this.getInvocations([workflowId])).filter((r) => r?.workflow.id === workflowId)
    while (level.length > 0) {
      const inWorkflow = level.filter((r): r is InvocationRecord => r?.workflow.id === workflowId)
      members.push(...inWorkflow)
      const childLists = await this.conn.command('listInvocationRecords', (c) => {
        const p = c.pipeline()
        for (const r of inWorkflow) p.lrange(this.keys.of('children', r.id), 0, -1)
        return p.exec()
      })
      const childIds = (childLists ?? []).flatMap(([err, ids]) => {
        if (err) throw err
        return ids as string[]
      })
      level = childIds.length ? await this.getInvocations(childIds) : []
    }
    return pageOfPositions(members, q)
  }

  /** One pipeline: each record, outcome hash and children list, and each id from its parent's list. */
  async deleteInvocations(ids: readonly string[]): Promise<void> {
    const unique = [...new Set(ids)]
    if (unique.length === 0) return
    // A record nenc cannot read still goes; only its parent's list keeps the id.
    const records = await this.getInvocations(unique).catch((err: unknown) => {
      if (err instanceof CorruptDataError) return unique.map(() => null)
      throw err
    })
    await this.conn.command('deleteInvocations', async (c) => {
      const p = c.pipeline()
      for (const [i, id] of unique.entries()) {
        p.del(
          this.keys.of('record', id),
          this.keys.of('outcome', id),
          this.keys.of('children', id),
          this.keys.of('progress', id),
        )
        const parentId = records[i]?.parentId
        if (parentId) p.lrem(this.keys.of('children', parentId), 0, id)
      }
      for (const [err] of (await p.exec()) ?? []) if (err) throw err
    })
  }

  async setOutcomes(items: readonly (OutcomeRef & { outcome: Outcome })[]): Promise<void> {
    if (items.length === 0) return
    const args: string[] = [this.keys.prefix]
    for (const it of items) args.push(it.id, String(it.attempt), encodeOutcome(it.outcome))
    await this.run(setOutcomes, [], args)
  }

  async getOutcomes(refs: readonly OutcomeRef[]): Promise<(Outcome | null)[]> {
    if (refs.length === 0) return []
    const args: string[] = [this.keys.prefix]
    for (const r of refs) args.push(r.id, String(r.attempt))
    const raw = (await this.run(getOutcomes, [], args)) as (string | null)[]
    return refs.map((r, i) => this.decodeOutcome(raw[i] ?? null, r.id))
  }

  async getWorkflowData(workflowId: string, key: string): Promise<string | null> {
    const hash = this.keys.of('workflowData', workflowId)
    return this.conn.command('getWorkflowData', (c) => c.hget(hash, key))
  }

  async setWorkflowData(workflowId: string, key: string, value: string): Promise<void> {
    const hash = this.keys.of('workflowData', workflowId)
    await this.conn.command('setWorkflowData', (c) => c.hset(hash, key, value))
  }

  async setProgress(items: readonly ProgressRecord[]): Promise<void> {
    if (items.length === 0) return
    const args: string[] = [this.keys.prefix]
    for (const it of items) args.push(it.id, String(it.attempt), String(it.updatedAt), it.value)
    await this.run(setProgress, [this.keys.fixed('progressChannel')], args)
  }

  async getProgress(ids: readonly string[]): Promise<(ProgressRecord | null)[]> {
    if (ids.length === 0) return []
    const keys = ids.map((id) => this.keys.of('progress', id))
    const values = await this.conn.command('getProgress', (c) => c.mget(keys))
    return values.map((raw, i) => (raw == null ? null : parseProgress(raw, ids[i]!, keys[i]!)))
  }

  /** Pushed by the set-progress script on the app's progress channel; foreign messages are ignored. */
  async subscribeProgress(listener: (records: ProgressRecord[]) => void): Promise<Unsubscribe> {
    const stop = await this.conn.subscribe(this.keys.fixed('progressChannel'), (message) => {
      const records = parseProgressMessage(message)
      if (records.length) listener(records)
    })
    const unsubscribe = async () => {
      if (this.subscriptions.delete(unsubscribe)) await stop()
    }
    this.subscriptions.add(unsubscribe)
    return unsubscribe
  }

  protected override async onClose(): Promise<void> {
    await Promise.all([...this.subscriptions].map((u) => u()))
  }

  async storeRunnerContext(ctx: RunnerContextRecord): Promise<void> {
    const key = this.keys.of('runnerContext', ctx.runnerId)
    const value = JSON.stringify({
      runnerId: ctx.runnerId,
      runnerClass: ctx.runnerClass,
      parentRunnerId: ctx.parentRunnerId,
      pid: ctx.pid,
      hostname: ctx.hostname,
      startedAt: ctx.startedAt,
      ...(ctx.slots !== undefined ? { slots: ctx.slots } : {}),
    })
    await this.conn.command('storeRunnerContext', (c) => c.set(key, value))
  }

  async getRunnerContext(runnerId: string): Promise<RunnerContextRecord | null> {
    const key = this.keys.of('runnerContext', runnerId)
    const raw = await this.conn.command('getRunnerContext', (c) => c.get(key))
    return raw === null ? null : parseRunnerContext(raw, runnerId, key)
  }
}
