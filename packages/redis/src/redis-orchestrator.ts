import { randomUUID } from 'node:crypto'
import {
  BackendUnavailableError,
  type ClaimOutcome,
  type FinalOutcomes,
  type HistoryEntry,
  type InvocationCount,
  type InvocationCountQuery,
  type InvocationPage,
  type InvocationPageQuery,
  type InvocationRecord,
  type InvocationState,
  isFinal,
  type ListInvocationsQuery,
  type Orchestrator,
  type RegisterRequest,
  type RegisterResult,
  type RunnerHeartbeat,
  readFinalNotification,
  type TransitionOutcome,
  type TransitionRequest,
  type Unsubscribe,
  WaitsTracker,
} from '@nenc/core'
import { transitionOutcomeFromCode } from './errors-from-code.js'
import type { RedisKeys } from './keys.js'
import { addWaiting } from './lua/add-waiting.js'
import { claimInvocations } from './lua/claim-invocations.js'
import { deleteFinalInvocations } from './lua/delete-final-invocations.js'
import { getActiveRunners } from './lua/get-active-runners.js'
import { getBlockingInvocations } from './lua/get-blocking-invocations.js'
import { getStates } from './lua/get-states.js'
import { heartbeatRunners } from './lua/heartbeat-runners.js'
import { listInvocations } from './lua/list-invocations.js'
import { recoverPending } from './lua/recover-pending.js'
import { recoverRunning } from './lua/recover-running.js'
import { registerInvocations } from './lua/register-invocations.js'
import { transitionInvocations } from './lua/transition-invocations.js'
import {
  CLAIM_FIELDS,
  type ClaimRead,
  claimAt,
  parseHistory,
  type QueuedClaims,
  queuedClaimsAt,
  type Reply,
  releasedAt,
  STATE_FIELDS,
  stateAt,
} from './orchestrator-codec.js'
import { RedisComponent } from './redis-component.js'
import { countRedisInvocations, pageRedisInvocations } from './redis-listing.js'
import { parseOutcome } from './state-codec.js'

/** Requests per transition script call in large batches. */
const TRANSITION_CHUNK = 200
/** Reply fields per transition request: code, the state, then the id it unparked (or false). */
const TRANSITION_FIELDS = 2 + STATE_FIELDS

/** @internal One request of the transition script (see {@link RedisOrchestrator.transitionWith}). */
export interface TransitionItem extends TransitionRequest {
  /** Encoded outcome written under (id, attempt after the change) when accepted. */
  outcome?: string
  /** Queued again after this delay when accepted (RETRY). */
  delayMs?: number
}

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
  /** Edges announced on the app's waits channel; a reconnection may have lost some (see WaitsTracker). */
  private readonly waits = new WaitsTracker(async (onEdge) => {
    const stop = await this.conn.subscribe(this.keys.fixed('waitsChannel'), onEdge)
    const stopReconnect = this.conn.onReconnect(onEdge)
    return async () => {
      stopReconnect()
      await stop()
    }
  })
  /** Tokens of transition calls: unique per call, so a lost answer can be replayed safely. */
  private readonly tokenBase = randomUUID()
  private tokenSeq = 0

  /** KEYS of the scripts that apply transitions (see the orchestrator prelude). */
  private get transitionKeys(): string[] {
    const k = this.keys
    return [k.fixed('active'), k.fixed('waited'), k.fixed('live')]
  }

  /** @internal The app's key names (the fused steps build their script calls from them). */
  get appKeys(): RedisKeys {
    return this.keys
  }

  register(requests: readonly RegisterRequest[]): Promise<RegisterResult[]> {
    return this.registerWith([], requests, false)
  }

  /**
   * @internal The register script: with `records` written first and, when `route`, every id not
   * reused queued in the same step (FusedSteps.route). Records go with the first chunk.
   */
  async registerWith(
    records: readonly InvocationRecord[],
    requests: readonly RegisterRequest[],
    route: boolean,
  ): Promise<RegisterResult[]> {
    if (requests.length === 0) return []
    const prefix = this.keys.prefix
    const keys = [this.keys.fixed('all'), this.keys.fixed('live')]
    if (route) keys.push(this.keys.fixed('queue'))
    const routed = route ? this.keys.fixed('routedChannel') : ''
    const recordArgs: string[] = []
    for (const r of records) recordArgs.push(r.id, JSON.stringify(r), r.parentId ?? '')
    let first = true
    const replies = await this.conn.scripts.evalChunked(registerInvocations, keys, requests, (chunk) => {
      const args: string[] = [prefix, routed, first ? String(recordArgs.length) : '0']
      if (first) args.push(...recordArgs)
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
    const reused = replies.flat() as string[]
    return requests.map((r, i): RegisterResult => {
      const existing = reused[i]
      return existing ? { id: r.id, reused: true, existingId: existing } : { id: r.id, reused: false }
    })
  }

  async transition(requests: readonly TransitionRequest[]): Promise<TransitionOutcome[]> {
    if (requests.length === 0) return []
    return (await this.transitionWith(requests, null)).outcomes
  }

  /**
   * @internal The transition script: each item fenced by its attempt (when given), with its
   * encoded outcome written and its RETRY queued after `delayMs` only when accepted, then — when
   * `claim` is given — up to `claim.max` queued ids popped and claimed for `claim.runnerId` with
   * their records (with `claim.start`, each claimed one then moved on to RUNNING for the runner,
   * fenced by its new attempt), all in one round trip (FusedSteps.finish / claimQueued). Large batches are
   * split in chunks sent as one pipeline; the claim goes with the last one.
   */
  async transitionWith(
    items: readonly TransitionItem[],
    claim: { runnerId: string; max: number; start?: boolean } | null,
  ): Promise<{ outcomes: TransitionOutcome[]; next: QueuedClaims | null; now: number }> {
    const k = this.keys
    const routes = claim !== null || items.some((i) => i.delayMs !== undefined)
    const keys = routes
      ? [...this.transitionKeys, k.fixed('queue'), k.fixed('delayed'), k.fixed('delayedSeq')]
      : this.transitionKeys
    const calls: { keys: string[]; args: string[] }[] = []
    const sizes: number[] = []
    for (let i = 0; i === 0 || i < items.length; i += TRANSITION_CHUNK) {
      const chunk = items.slice(i, i + TRANSITION_CHUNK)
      const last = i + TRANSITION_CHUNK >= items.length
      const args: string[] = [
        k.prefix,
        k.fixed('finalChannel'),
        `${this.tokenBase}:${++this.tokenSeq}`,
        '0',
        routes ? k.fixed('routedChannel') : '',
        last && claim ? claim.runnerId : '',
        last && claim ? String(Math.max(0, Math.floor(claim.max))) : '0',
        last && claim?.start ? '1' : '0',
      ]
      for (const r of chunk)
        args.push(
          r.id,
          r.to,
          r.actor ?? '',
          r.attempt === undefined || r.attempt === null ? '' : String(r.attempt),
          r.outcome ?? '',
          r.delayMs === undefined ? '' : String(Math.max(0, Math.ceil(r.delayMs))),
        )
      sizes.push(chunk.length)
      calls.push({ keys, args })
    }
    let replies: Reply[]
    const sentAt = Date.now()
    try {
      replies =
        calls.length === 1
          ? [(await this.conn.scripts.eval(transitionInvocations, keys, calls[0]!.args)) as Reply]
          : ((await this.conn.scripts.evalMany(transitionInvocations, calls)) as Reply[])
    } catch (err) {
      replies = await this.replay(calls, err, sentAt)
    }
    const outcomes: TransitionOutcome[] = []
    let next: QueuedClaims | null = null
    let now = 0
    replies.forEach((reply, j) => {
      now = Number(reply[0])
      const end = 1 + sizes[j]! * TRANSITION_FIELDS
      for (let at = 1; at < end; at += TRANSITION_FIELDS) {
        const r = items[outcomes.length]!
        const state = stateAt(reply, at + 1, r.id)
        const released = releasedAt(reply, at + 1 + STATE_FIELDS)
        outcomes.push(transitionOutcomeFromCode(Number(reply[at]), state, r.to, r.actor, r.attempt, released))
      }
      if (claim && j === replies.length - 1)
        next = queuedClaimsAt(reply, end, now, claim.runnerId, claim.start === true)
    })
    return { outcomes, next, now }
  }

  async claim(ids: readonly string[], runnerId: string): Promise<ClaimOutcome[]> {
    return (await this.claimWith(ids, runnerId, false)).map((c) => c.outcome)
  }

  /** @internal The claim script; with `records`, the claimed ids' records come back too (FusedSteps.claimIds). */
  async claimWith(ids: readonly string[], runnerId: string, records: boolean): Promise<ClaimRead[]> {
    if (ids.length === 0) return []
    const prefix = this.keys.prefix
    const replies = await this.conn.scripts.evalChunked(
      claimInvocations,
      this.transitionKeys,
      ids,
      (chunk) => [prefix, this.keys.fixed('finalChannel'), runnerId, records ? '1' : '0', ...chunk],
    )
    const claimed: ClaimRead[] = []
    for (const reply of replies as Reply[]) {
      const now = Number(reply[0])
      for (let at = 1; at < reply.length; at += CLAIM_FIELDS)
        claimed.push(claimAt(reply, at, ids[claimed.length]!, now, runnerId))
    }
    return claimed
  }

  /**
   * A transition call whose answer was lost with the connection may have been applied: without
   * care the runner would see its own RUNNING rejected and leave the invocation stuck. Once the
   * connection is back (within `replayWindowMs`), the same calls are sent again in replay mode
   * with the same tokens: what the lost call applied is answered from the stored state, the rest
   * is applied now, and what the lost call claimed (fused finish / claimQueued) is returned as
   * claimed — else, RUNNING under this live runner, nobody would ever run or recover it. Other
   * errors, or no connection in time, throw the original error.
   */
  private async replay(
    calls: { keys: string[]; args: string[] }[],
    err: unknown,
    sentAt: number,
  ): Promise<Reply[]> {
    if (!(err instanceof BackendUnavailableError) || calls.length === 0) throw err
    try {
      await this.conn.whenReady(this.conn.options.replayWindowMs)
    } catch {
      throw err
    }
    // Layout: prefix, channel, token, replay flag (ms since the lost call was sent), …
    const ago = String(Math.max(1, Date.now() - sentAt))
    for (const c of calls) c.args[3] = ago
    return (await this.conn.scripts.evalMany(transitionInvocations, calls)) as Reply[]
  }

  async getStates(ids: readonly string[]): Promise<(InvocationState | null)[]> {
    if (ids.length === 0) return []
    return (await this.readStates(ids, false)).map((r) => r.state)
  }

  /** @internal The get-states script; with `outcomes`, each final state's attempt's encoded outcome too (FusedSteps.readFinal). */
  async readStates(
    ids: readonly string[],
    outcomes: boolean,
  ): Promise<{ state: InvocationState | null; outcome: string | null }[]> {
    const replies = await this.conn.scripts.evalChunked(getStates, [], ids, (chunk) => [
      this.keys.prefix,
      outcomes ? '1' : '0',
      ...chunk,
    ])
    const flat = (replies as Reply[]).flat()
    const width = outcomes ? STATE_FIELDS + 1 : STATE_FIELDS
    return ids.map((id, i) => {
      const o = outcomes ? flat[i * width + STATE_FIELDS] : null
      return { state: stateAt(flat, i * width, id), outcome: typeof o === 'string' ? o : null }
    })
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

  async pageInvocations(q: InvocationPageQuery): Promise<InvocationPage> {
    return pageRedisInvocations((script, keys, args) => this.run(script, keys, args), this.keys, q)
  }

  /** A scan of the range (per task: its zset), in slices of a few thousand ids per script. */
  async countInvocations(q: InvocationCountQuery): Promise<InvocationCount[]> {
    return countRedisInvocations((script, keys, args) => this.run(script, keys, args), this.keys, q)
  }

  async deleteFinalInvocations(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return []
    const keys = ['all', 'waited', 'live', 'active'].map((k) => this.keys.fixed(k as 'all'))
    const removed: string[] = []
    // Chunks keep each script call short (the server runs nothing else meanwhile).
    const unique = [...new Set(ids)]
    for (let i = 0; i < unique.length; i += 500) {
      const chunk = unique.slice(i, i + 500)
      removed.push(
        ...((await this.run(deleteFinalInvocations, keys, [this.keys.prefix, ...chunk])) as string[]),
      )
    }
    return removed
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
    if (!this.waits.mayExist()) return []
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
  async subscribeFinal(listener: (ids: string[], outcomes?: FinalOutcomes) => void): Promise<Unsubscribe> {
    const stop = await this.conn.subscribe(this.keys.fixed('finalChannel'), (message) => {
      // An entry is an id, or [id, outcome] when the script that ended it stored that outcome.
      const read = readFinalNotification(message, (e) =>
        typeof e[1] === 'string' ? parseOutcome(e[1], 'a final-status notification') : null,
      )
      if (read) listener(read.ids, read.outcomes)
    })
    const unsubscribe = async () => {
      if (this.subscriptions.delete(unsubscribe)) await stop()
    }
    this.subscriptions.add(unsubscribe)
    return unsubscribe
  }

  protected override async onClose(): Promise<void> {
    await Promise.all([...this.subscriptions].map((u) => u()))
    await this.waits.close()
  }
}
