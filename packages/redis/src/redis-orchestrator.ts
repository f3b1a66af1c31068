import { randomUUID } from 'node:crypto'
import {
  BackendUnavailableError,
  type ClaimOutcome,
  type ComponentContext,
  type HistoryEntry,
  type InvocationState,
  isActive,
  isFinal,
  type ListInvocationsQuery,
  type Orchestrator,
  type RegisterRequest,
  type RegisterResult,
  type RunnerHeartbeat,
  type TransitionOutcome,
  type TransitionRequest,
  type Unsubscribe,
} from '@nenc/core'
import type { AheadClaim } from './component-link.js'
import { transitionOutcomeFromCode } from './errors-from-code.js'
import { addWaiting } from './lua/add-waiting.js'
import { claimInvocations } from './lua/claim-invocations.js'
import { getActiveRunners } from './lua/get-active-runners.js'
import { getBlockingInvocations } from './lua/get-blocking-invocations.js'
import { getStates } from './lua/get-states.js'
import { heartbeatRunners } from './lua/heartbeat-runners.js'
import { listInvocations } from './lua/list-invocations.js'
import { recoverPending } from './lua/recover-pending.js'
import { recoverRunning } from './lua/recover-running.js'
import { registerInvocations } from './lua/register-invocations.js'
import { routeInvocations } from './lua/route-invocations.js'
import { transitionInvocations } from './lua/transition-invocations.js'
import { aheadClaimsAt, claimAt, parseHistory, type Reply, stateAt } from './orchestrator-codec.js'
import { RedisComponent } from './redis-component.js'
import { WaitsTracker } from './waits-tracker.js'

/** Waited-zset entries one `getBlockingInvocations` call looks at, at most. */
const BLOCKING_SCAN_LIMIT = 2000

/**
 * Status, ownership and coordination in Redis. Every method that changes state is one Lua
 * script (one round trip for the whole batch) that validates with core's status table, writes
 * the status and its history entry and maintains every index in the same atomic step; final
 * statuses are published on the app's final channel from inside that step.
 */
export class RedisOrchestrator extends RedisComponent implements Orchestrator {
  readonly capabilities = { pushedFinalNotifications: true }
  protected readonly component = 'orchestrator' as const
  private readonly subscriptions = new Set<Unsubscribe>()
  private readonly waits = new WaitsTracker(this.conn)
  private attachedPrefix: string | null = null
  /** Tokens of transition calls: unique per call, so a lost answer can be replayed safely. */
  private readonly tokenBase = randomUUID()
  private tokenSeq = 0

  /** KEYS of the scripts that apply transitions (see the orchestrator prelude). */
  private get transitionKeys(): string[] {
    const k = this.keys
    return [k.fixed('active'), k.fixed('waited'), k.fixed('live')]
  }

  /** Records staged by the state backend on this connection are written first (see {@link ComponentLink}). */
  async register(requests: readonly RegisterRequest[]): Promise<RegisterResult[]> {
    if (requests.length === 0) return []
    const prefix = this.keys.prefix
    const link = this.conn.link
    const records = link.linked(prefix) ? link.records.take(prefix) : []
    const keys = [this.keys.fixed('all'), this.keys.fixed('live')]
    let first = true
    let replies: unknown[][]
    try {
      replies = await this.conn.scripts.evalChunked(registerInvocations, keys, requests, (chunk) => {
        const args: string[] = [prefix, first ? String(records.length) : '0']
        if (first) args.push(...records)
        first = false
        for (const r of chunk)
          args.push(
            r.id,
            r.taskId,
            r.callId,
            r.actor,
            r.registrationKey ?? '',
            r.runningKey ?? '',
            r.rerouteOnConcurrencyControl ? '1' : '0',
          )
        return args
      })
    } catch (err) {
      link.records.restore(prefix, records)
      throw err
    }
    const reused = replies.flat() as string[]
    return requests.map((r, i): RegisterResult => {
      const existing = reused[i]
      return existing ? { id: r.id, reused: true, existingId: existing } : { id: r.id, reused: false }
    })
  }

  /**
   * Outcomes staged by the state backend on this connection are written by the first script
   * call, before any status; on failure they are staged again. A batch of the process's runner
   * that frees slots also claims that many queued ids for it (see {@link ComponentLink}).
   */
  async transition(requests: readonly TransitionRequest[]): Promise<TransitionOutcome[]> {
    if (requests.length === 0) return []
    const prefix = this.keys.prefix
    const link = this.conn.link
    const outcomes = link.linked(prefix) ? link.outcomes.take(prefix) : []
    const actor = requests[0]!.actor
    const claimFor =
      requests.every((r) => r.actor === actor) && requests.some((r) => !isActive(r.to))
        ? link.claimNextFor(prefix, actor)
        : ''
    const keys = [...this.transitionKeys, this.keys.fixed('queue'), this.keys.fixed('delayed')]
    const sizes: number[] = []
    const calls: { keys: string[]; args: string[] }[] = []
    const build = (chunk: readonly TransitionRequest[]) => {
      const args: string[] = [prefix, this.keys.fixed('finalChannel')]
      if (sizes.length === 0) args.push(String(outcomes.length), ...outcomes)
      else args.push('0')
      args.push(claimFor, `${this.tokenBase}:${++this.tokenSeq}`, '0')
      sizes.push(chunk.length)
      for (const r of chunk) args.push(r.id, r.to, r.actor ?? '')
      calls.push({ keys, args })
      return args
    }
    let replies: Reply[]
    try {
      replies = (await this.conn.scripts.evalChunked(transitionInvocations, keys, requests, build)) as Reply[]
    } catch (err) {
      replies = await this.replay(calls, err).catch((final: unknown) => {
        link.outcomes.restore(prefix, outcomes)
        throw final
      })
    }
    const out: TransitionOutcome[] = []
    const ahead: AheadClaim[] = []
    replies.forEach((reply, j) => {
      const end = 1 + sizes[j]! * 6
      for (let at = 1; at < end; at += 6) {
        const r = requests[out.length]!
        out.push(transitionOutcomeFromCode(Number(reply[at]), stateAt(reply, at + 1, r.id), r.to, r.actor))
      }
      for (const c of aheadClaimsAt(reply, end, Number(reply[0]), claimFor)) {
        if (c.record) this.conn.link.prefetch(this.keys.of('record', c.outcome.id), c.record)
        ahead.push({ id: c.outcome.id, outcome: c.outcome })
      }
    })
    if (ahead.length) link.addAhead(prefix, claimFor, ahead)
    return out
  }

  /** Claims the transition script made ahead for this runner are answered without a round trip. */
  async claim(ids: readonly string[], runnerId: string): Promise<ClaimOutcome[]> {
    if (ids.length === 0) return []
    const prefix = this.keys.prefix
    const known = ids.map((id) => this.conn.link.takeAheadOutcome(prefix, runnerId, id))
    const rest = ids.filter((_, i) => known[i] === undefined)
    if (rest.length === 0) return known as ClaimOutcome[]
    const prefetch = this.conn.link.linked(prefix) ? '1' : '0'
    const replies = await this.conn.scripts.evalChunked(
      claimInvocations,
      this.transitionKeys,
      rest,
      (chunk) => [prefix, this.keys.fixed('finalChannel'), runnerId, prefetch, ...chunk],
    )
    const claimed: ClaimOutcome[] = []
    for (const reply of replies as Reply[]) {
      const now = Number(reply[0])
      for (let at = 1; at < reply.length; at += 4) {
        const c = claimAt(reply, at, rest[claimed.length]!, now, runnerId)
        if (c.record) this.conn.link.prefetch(this.keys.of('record', c.outcome.id), c.record)
        claimed.push(c.outcome)
      }
    }
    let next = 0
    return known.map((k) => k ?? claimed[next++]!)
  }

  /**
   * A transition call whose answer was lost with the connection may have been applied: without
   * care the runner would see its own RUNNING rejected and leave the invocation stuck. Once the
   * connection is back (within `replayWindowMs`), the same calls are sent again in replay mode
   * with the same tokens: what the lost call applied is answered from the stored state, the rest
   * is applied now. Other errors, or no connection in time, throw the original error.
   */
  private async replay(calls: { keys: string[]; args: string[] }[], err: unknown): Promise<Reply[]> {
    if (!(err instanceof BackendUnavailableError) || calls.length === 0) throw err
    try {
      await this.conn.whenReady(this.conn.options.replayWindowMs)
    } catch {
      throw err
    }
    // Layout: prefix, channel, n, n outcome args, claim runner, token, replay flag, requests…
    for (const c of calls) c.args[5 + Number(c.args[2])] = '1'
    return (await this.conn.scripts.evalMany(transitionInvocations, calls)) as Reply[]
  }

  async getStates(ids: readonly string[]): Promise<(InvocationState | null)[]> {
    if (ids.length === 0) return []
    const replies = await this.conn.scripts.evalChunked(getStates, [], ids, (chunk) => [
      this.keys.prefix,
      ...chunk,
    ])
    const flat = (replies as Reply[]).flat()
    return ids.map((id, i) => stateAt(flat, i * 5, id))
  }

  async getHistory(id: string): Promise<HistoryEntry[]> {
    const key = this.keys.of('history', id)
    const entries = await this.conn.command('getHistory', (c) => c.lrange(key, 0, -1))
    return parseHistory(entries, key)
  }

  async listInvocations(q: ListInvocationsQuery): Promise<string[]> {
    if (q.statuses && q.statuses.length === 0) return []
    const source = q.taskId ? this.keys.of('byTask', q.taskId) : this.keys.fixed('all')
    const liveOnly = q.statuses?.every((s) => !isFinal(s)) ?? false
    const args = [
      this.keys.prefix,
      Math.max(0, q.offset ?? 0),
      q.limit ?? 100,
      q.taskId ?? '',
      liveOnly ? '1' : '0',
      ...(q.statuses ?? []),
    ]
    return (await this.run(listInvocations, [source, this.keys.fixed('live')], args)) as string[]
  }

  async addWaiting(waiterId: string, waitedIds: readonly string[]): Promise<void> {
    if (waitedIds.length === 0) return
    this.waits.edgeAdded()
    const args = [this.keys.prefix, waiterId, this.keys.fixed('waitsChannel'), ...waitedIds]
    await this.run(addWaiting, this.transitionKeys, args)
  }

  /**
   * Skips the round trip while no blocking-control edge exists anywhere (see
   * {@link WaitsTracker}): most runner iterations of an app without waits cost nothing here.
   */
  async getBlockingInvocations(max: number): Promise<string[]> {
    if (max <= 0) return []
    if (!this.waits.mayExist(this.keys.fixed('waitsChannel'))) return []
    const epoch = this.waits.epoch
    const args = [this.keys.prefix, Math.floor(max), BLOCKING_SCAN_LIMIT]
    const [ids, edges] = (await this.run(getBlockingInvocations, this.transitionKeys, args)) as [
      string[],
      number,
    ]
    if (edges === 0) this.waits.sawNone(epoch)
    return ids
  }

  private get runnerKeys(): string[] {
    const k = this.keys
    return [k.fixed('heartbeats'), k.fixed('runnerCreated'), k.fixed('runnerAtomic')]
  }

  async heartbeat(runnerIds: readonly string[], canRunAtomicService: boolean): Promise<void> {
    if (runnerIds.length === 0) return
    this.conn.link.noteRunners(this.keys.prefix, runnerIds)
    const args = [this.keys.prefix, canRunAtomicService ? '1' : '0', ...runnerIds]
    await this.run(heartbeatRunners, this.runnerKeys, args)
  }

  async getActiveRunners(timeoutMs: number): Promise<RunnerHeartbeat[]> {
    const reply = (await this.run(getActiveRunners, this.runnerKeys, [
      this.keys.prefix,
      timeoutMs,
    ])) as string[]
    const out: RunnerHeartbeat[] = []
    for (let i = 0; i < reply.length; i += 4)
      out.push({
        runnerId: reply[i]!,
        createdAt: Number(reply[i + 1]),
        lastHeartbeat: Number(reply[i + 2]),
        canRunAtomicService: reply[i + 3] === '1',
      })
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.runnerId < b.runnerId ? -1 : 1))
  }

  async getPendingForRecovery(olderThanMs: number, limit: number): Promise<string[]> {
    if (limit <= 0) return []
    const args = [this.keys.prefix, olderThanMs, Math.floor(limit)]
    return (await this.run(recoverPending, [this.keys.fixed('active')], args)) as string[]
  }

  async getRunningForRecovery(deadAfterMs: number, limit: number): Promise<string[]> {
    if (limit <= 0) return []
    const keys = [this.keys.fixed('active'), this.keys.fixed('heartbeats')]
    return (await this.run(recoverRunning, keys, [
      this.keys.prefix,
      deadAfterMs,
      Math.floor(limit),
    ])) as string[]
  }

  /**
   * Subscribes to the app's final channel, published by the transition and claim scripts. A
   * message that is not a JSON array of ids (foreign publisher) is ignored.
   */
  async subscribeFinal(listener: (ids: string[]) => void): Promise<Unsubscribe> {
    const stop = await this.conn.subscribe(this.keys.fixed('finalChannel'), (message) => {
      let ids: unknown
      try {
        ids = JSON.parse(message)
      } catch {
        return
      }
      if (Array.isArray(ids) && ids.length > 0) listener(ids.map(String))
    })
    const unsubscribe = async () => {
      if (this.subscriptions.delete(unsubscribe)) await stop()
    }
    this.subscriptions.add(unsubscribe)
    return unsubscribe
  }

  override async init(ctx: ComponentContext): Promise<void> {
    await super.init(ctx)
    if (this.attachedPrefix === null) {
      this.attachedPrefix = this.keys.prefix
      this.conn.link.attach('orchestrator', this.attachedPrefix, true)
      this.conn.link.setReleaser(this.attachedPrefix, (runner, claims) => this.giveBack(runner, claims))
    }
  }

  /**
   * Claims made ahead that the runner never took: PENDING (or CONCURRENCY_CONTROLLED) →
   * REROUTED as that runner, then queued again with the deferred ones. Best effort: what fails
   * here is recovered like any PENDING invocation of a stopped runner.
   */
  private async giveBack(runner: string, claims: readonly AheadClaim[]): Promise<void> {
    const toReroute = claims.filter(
      (c) => c.outcome.outcome === 'claimed' || c.outcome.outcome === 'controlled',
    )
    try {
      const results = await this.transition(
        toReroute.map((c) => ({ id: c.id, to: 'rerouted' as const, actor: runner })),
      )
      const ids = [
        ...toReroute.filter((_, i) => results[i]!.ok).map((c) => c.id),
        ...claims.filter((c) => c.outcome.outcome === 'deferred').map((c) => c.id),
      ]
      if (ids.length === 0) return
      const keys = [this.keys.fixed('queue'), this.keys.fixed('delayed'), this.keys.fixed('delayedSeq')]
      await this.run(routeInvocations, keys, [this.keys.prefix, this.keys.fixed('routedChannel'), 0, ...ids])
    } catch {
      // Redis is unreachable: PENDING recovery reroutes them later.
    }
  }

  protected override async onClose(): Promise<void> {
    if (this.attachedPrefix !== null) {
      await this.conn.link.release(this.attachedPrefix)
      this.conn.link.setReleaser(this.attachedPrefix, null)
      this.conn.link.attach('orchestrator', this.attachedPrefix, false)
    }
    this.attachedPrefix = null
    await Promise.all([...this.subscriptions].map((u) => u()))
    await this.waits.close()
  }
}
