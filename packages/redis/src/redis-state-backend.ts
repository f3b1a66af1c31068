import {
  CorruptDataError,
  type InvocationRecord,
  type Outcome,
  type OutcomeRef,
  type RunnerContextRecord,
  type StateBackend,
} from '@nenc/core'
import { getOutcomes, setOutcomes } from './lua/outcomes.js'
import { upsertInvocations } from './lua/upsert-invocations.js'
import { RedisComponent } from './redis-component.js'
import { encodeOutcome, parseOutcome, parseRecord, parseRunnerContext } from './state-codec.js'

/**
 * Invocation records, outcomes, workflow data and runner contexts. Every batch method is one
 * command (MSET / MGET) or one script, and writes before it resolves. Outcomes are kept per
 * attempt in one hash per invocation (field = attempt), write-once.
 */
export class RedisStateBackend extends RedisComponent implements StateBackend {
  protected readonly component = 'stateBackend' as const

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
