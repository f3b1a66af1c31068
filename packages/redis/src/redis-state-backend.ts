import type {
  ComponentContext,
  InvocationRecord,
  Outcome,
  RunnerContextRecord,
  StateBackend,
} from '@nenc/core'
import { upsertInvocations } from './lua/upsert-invocations.js'
import { RedisComponent } from './redis-component.js'
import { encodeOutcome, parseOutcome, parseRecord, parseRunnerContext } from './state-codec.js'

/**
 * Invocation records, outcomes, workflow data and runner contexts. Every batch method is one
 * command (MSET / MGET) or one script. When the orchestrator of the app shares this component's
 * connection, records come back with claims and outcomes go out with the final transitions (see
 * {@link ComponentLink}): the runner's `getInvocations` and `setOutcomes` then cost no round trip
 * of their own.
 */
export class RedisStateBackend extends RedisComponent implements StateBackend {
  protected readonly component = 'stateBackend' as const
  private attachedPrefix: string | null = null

  override async init(ctx: ComponentContext): Promise<void> {
    await super.init(ctx)
    if (this.attachedPrefix === null) {
      this.attachedPrefix = this.keys.prefix
      this.conn.link.attach('stateBackend', this.attachedPrefix, true)
    }
  }

  protected override async onClose(): Promise<void> {
    if (this.attachedPrefix === null) return
    this.conn.link.attach('stateBackend', this.attachedPrefix, false)
    this.attachedPrefix = null
    await this.conn.link.records.flush()
    await this.conn.link.outcomes.flush()
  }

  override async purge(): Promise<void> {
    if (this.attachedPrefix !== null) this.conn.link.discard(this.attachedPrefix)
    await super.purge()
  }

  async upsertInvocations(records: readonly InvocationRecord[]): Promise<void> {
    if (records.length === 0) return
    const prefix = this.keys.prefix
    if (this.conn.link.linked(prefix)) {
      this.conn.link.records.stage(
        prefix,
        records.map((r) => [r.id, JSON.stringify(r), r.parentId ?? '']),
      )
      return
    }
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

  /** Writes records still staged for the register script first, so reads see them. */
  private async settleRecords(): Promise<void> {
    const link = this.conn.link
    if (link.records.has(this.keys.prefix)) await link.records.flush(this.keys.prefix)
  }

  async getInvocations(ids: readonly string[]): Promise<(InvocationRecord | null)[]> {
    if (ids.length === 0) return []
    await this.settleRecords()
    const keys = ids.map((id) => this.keys.of('record', id))
    const values: (string | null | undefined)[] = keys.map((k) => this.conn.link.takePrefetched(k))
    const missing = keys.filter((_, i) => values[i] === undefined)
    if (missing.length) {
      const read = await this.conn.command('getInvocations', (c) => c.mget(missing))
      let j = 0
      for (let i = 0; i < values.length; i++) if (values[i] === undefined) values[i] = read[j++]
    }
    return values.map((raw, i) => (raw == null ? null : parseRecord(raw, ids[i]!, keys[i]!)))
  }

  async getChildInvocations(parentId: string): Promise<string[]> {
    await this.settleRecords()
    const key = this.keys.of('children', parentId)
    return this.conn.command('getChildInvocations', (c) => c.lrange(key, 0, -1))
  }

  async setOutcomes(items: readonly { id: string; outcome: Outcome }[]): Promise<void> {
    if (items.length === 0) return
    const prefix = this.keys.prefix
    if (this.conn.link.linked(prefix)) {
      this.conn.link.outcomes.stage(
        prefix,
        items.map((it) => [this.keys.of('outcome', it.id), encodeOutcome(it.outcome)]),
      )
      return
    }
    const pairs: string[] = []
    for (const it of items) pairs.push(this.keys.of('outcome', it.id), encodeOutcome(it.outcome))
    await this.conn.command('setOutcomes', (c) => c.mset(pairs))
  }

  async getOutcomes(ids: readonly string[]): Promise<(Outcome | null)[]> {
    if (ids.length === 0) return []
    const keys = ids.map((id) => this.keys.of('outcome', id))
    // Staged values first, read before the MGET is sent: once taken for a write, that write is
    // on the socket ahead of the MGET, which then sees it.
    const staged = keys.map((k) => this.conn.link.outcomes.item(this.keys.prefix, k)?.[1])
    const stored = await this.conn.command('getOutcomes', (c) => c.mget(keys))
    return keys.map((key, i) => {
      const raw = staged[i] ?? stored[i] ?? null
      return raw === null ? null : parseOutcome(raw, key)
    })
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
    })
    await this.conn.command('storeRunnerContext', (c) => c.set(key, value))
  }

  async getRunnerContext(runnerId: string): Promise<RunnerContextRecord | null> {
    const key = this.keys.of('runnerContext', runnerId)
    const raw = await this.conn.command('getRunnerContext', (c) => c.get(key))
    return raw === null ? null : parseRunnerContext(raw, runnerId, key)
  }
}
