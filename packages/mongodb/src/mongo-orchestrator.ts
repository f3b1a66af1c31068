import {
  type ClaimOutcome,
  CoalescingNotifier,
  CorruptDataError,
  type HistoryEntry,
  type InvocationState,
  type ListInvocationsQuery,
  type Orchestrator,
  type OrchestratorCapabilities,
  type RegisterRequest,
  type RegisterResult,
  type RunnerHeartbeat,
  type TransitionOutcome,
  type TransitionRequest,
  type Unsubscribe,
} from '@nenc/core'
import type { Collection, Document } from 'mongodb'
import { MongoComponent } from './component-base.js'
import type { WakeTransport } from './connection.js'
import { decodeInvocation, historyOf, type InvocationDoc, stateOf } from './documents.js'
import { type Job, type ReadDoc, runJobs } from './guarded-write.js'
import { type IndexPlan, orchestratorIndexes } from './indexes.js'
import { type CollectionNames, newOpToken } from './names.js'
import * as coordination from './orchestrator-coordination.js'
import { MAX_RECLAIMS, recheckParked, releaseFreedKeys } from './parking.js'
import { FINALS_FEED_PIPELINE, finishedSinceFilter, listQuery, NO_HISTORY } from './queries/invocations.js'
import { ParkSequence } from './queries/parking.js'
import { registerInvocations } from './register-invocations.js'
import {
  type Aftermath,
  claimJob,
  runningKeyOf,
  transitionJob,
  type WaveAftermath,
  waveAftermath,
  waves,
} from './status-jobs.js'
import { guard } from './translate-error.js'
import { FinalsWindow } from './wakeups/finals-window.js'
import { WakeSource } from './wakeups/wake-source.js'

/**
 * Status, ownership and coordination in one document per invocation. Every status change is
 * one guarded `findOneAndUpdate` (or one `bulkWrite` of them for a batch) that compares status,
 * owner and retry count with what `checkTransition` validated, and sets the new values, the
 * history entry and the retry increment together; a lost race re-reads and re-validates.
 * Concurrency control lives in partial unique indexes, so it needs no transaction and works on
 * a standalone server.
 */
export class MongoOrchestrator extends MongoComponent implements Orchestrator {
  private readonly finals = new CoalescingNotifier<string>()
  private readonly parkSequence = new ParkSequence()
  private transport: WakeTransport | null = null
  private source: WakeSource | null = null
  private sourceStarting: Promise<void> | null = null

  get capabilities(): OrchestratorCapabilities {
    return { pushedFinalNotifications: this.transport === 'change-streams' }
  }

  protected indexPlan(names: CollectionNames): IndexPlan {
    return orchestratorIndexes(names, this.options.retentionSeconds)
  }

  protected ownCollections(names: CollectionNames): string[] {
    return [names.invocations, names.waits, names.runners]
  }

  protected override async onInit(): Promise<void> {
    this.transport = await this.connection.wakeTransport(this.db)
  }

  private get invocations(): Collection<InvocationDoc> {
    return this.collection<InvocationDoc>(this.names.invocations)
  }

  private get colls(): coordination.Collections {
    return {
      invocations: this.invocations,
      waits: this.collection(this.names.waits),
      runners: this.collection(this.names.runners),
      names: this.names,
    }
  }

  async register(requests: readonly RegisterRequest[]): Promise<RegisterResult[]> {
    if (requests.length === 0) return []
    return guard('registering invocations', () => registerInvocations(this.invocations, requests, Date.now()))
  }

  private decode(raw: unknown, id: string): ReadDoc {
    try {
      return decodeInvocation(raw, `${this.names.invocations}/${id}`)
    } catch (err) {
      if (err instanceof CorruptDataError) return err
      throw err
    }
  }

  /** Current documents of `ids` in one query: decoded, null when unknown, or the corruption found. */
  private async read(ids: readonly string[]): Promise<Map<string, ReadDoc>> {
    const unique = [...new Set(ids)]
    const out = new Map<string, ReadDoc>(unique.map((id) => [id, null]))
    const docs = await this.invocations.find({ _id: { $in: unique } }).toArray()
    for (const d of docs) out.set(String(d._id), this.decode(d, String(d._id)))
    return out
  }

  /**
   * Runs jobs wave by wave, each wave followed by `endWave` (running-key releases and park
   * checks, before the next wave acts on the same keys); announces finals and releases their
   * edges; then reports corruption.
   */
  private async runBatch<R>(
    ids: readonly string[],
    makeJob: (i: number, after: Aftermath, wave: WaveAftermath) => Job<R>,
    keyed: boolean,
    endWave?: (wave: WaveAftermath, results: R[]) => Promise<void>,
  ): Promise<R[]> {
    const docs = await this.read(ids)
    const after: Aftermath = { finals: [], releaseEdges: [] }
    const results = new Array<R>(ids.length)
    const corrupt: CorruptDataError[] = []
    const touched = new Set<string>()
    for (const wave of waves(ids, keyed ? runningKeyOf(docs) : undefined)) {
      // A later wave may act on a document an earlier wave changed: validate against what is
      // stored now, not against the batch's first read.
      const stale = [...new Set(wave.map((i) => ids[i]!).filter((id) => touched.has(id)))]
      if (stale.length) for (const [id, d] of await this.read(stale)) docs.set(id, d)
      for (const i of wave) touched.add(ids[i]!)
      const ended = waveAftermath()
      const jobs = wave.map((i) => makeJob(i, after, ended))
      const out = await runJobs(
        this.invocations,
        jobs,
        docs,
        (missing) => this.read(missing),
        (raw, id) => this.decode(raw, id),
        newOpToken,
      )
      wave.forEach((i, k) => {
        results[i] = out.results[k]!
      })
      corrupt.push(...out.corrupt)
      if (endWave) await endWave(ended, results)
    }
    if (after.releaseEdges.length) await coordination.releaseEdges(this.colls, after.releaseEdges)
    if (after.finals.length) this.finals.emit(after.finals)
    if (corrupt.length) throw corrupt[0]
    return results
  }

  async transition(requests: readonly TransitionRequest[]): Promise<TransitionOutcome[]> {
    if (requests.length === 0) return []
    return guard('changing invocation statuses', () =>
      this.runBatch(
        requests.map((r) => r.id),
        (i, after, wave) => transitionJob(requests[i]!, after, wave, i),
        false,
        (wave, results) => releaseFreedKeys(this.invocations, wave.freed, results),
      ),
    )
  }

  async claim(ids: readonly string[], runnerId: string): Promise<ClaimOutcome[]> {
    if (ids.length === 0) return []
    return guard('claiming invocations', () => this.claimBatch(ids, runnerId, 0))
  }

  /**
   * Claims wave by wave. After a wave, the invocations it parked are checked against their keys
   * ({@link recheckParked}); those whose key was freed meanwhile, taken back off the list, are
   * moved CONCURRENCY_CONTROLLED → REROUTED and claimed again, and that claim's outcome is theirs.
   * After {@link MAX_RECLAIMS} rounds they stay parked: recovery re-offers them.
   */
  private claimBatch(ids: readonly string[], runnerId: string, round: number): Promise<ClaimOutcome[]> {
    return this.runBatch(
      ids,
      (i, after, wave) => claimJob(ids[i]!, runnerId, after, wave, i, this.parkSequence),
      true,
      async (wave, results) => {
        if (round >= MAX_RECLAIMS || wave.parked.length === 0) return
        const back = await recheckParked(this.invocations, wave.parked)
        if (back.length === 0) return
        const rerouted = await this.runBatch(
          back.map((b) => b.id),
          (k, after) => transitionJob({ id: back[k]!.id, to: 'rerouted', actor: runnerId }, after),
          false,
        )
        const again = back.filter((_, k) => rerouted[k]!.ok)
        if (again.length === 0) return
        const outcomes = await this.claimBatch(
          again.map((b) => b.id),
          runnerId,
          round + 1,
        )
        again.forEach((b, k) => {
          results[b.at] = outcomes[k]!
        })
      },
    )
  }

  async getStates(ids: readonly string[]): Promise<(InvocationState | null)[]> {
    if (ids.length === 0) return []
    return guard('reading invocation states', async () => {
      const docs = await this.invocations
        .find({ _id: { $in: [...new Set(ids)] } }, { projection: NO_HISTORY })
        .toArray()
      const byId = new Map<string, InvocationState>()
      for (const d of docs) {
        const id = String(d._id)
        byId.set(id, stateOf(decodeInvocation(d, `${this.names.invocations}/${id}`, false)))
      }
      return ids.map((id) => {
        const s = byId.get(id)
        return s ? { ...s } : null
      })
    })
  }

  async getHistory(id: string): Promise<HistoryEntry[]> {
    return guard('reading an invocation history', async () => {
      const doc = await this.invocations.findOne({ _id: id }, { projection: { history: 1 } })
      return doc ? historyOf(doc, `${this.names.invocations}/${id}`) : []
    })
  }

  async listInvocations(query: ListInvocationsQuery): Promise<string[]> {
    const q = listQuery(query)
    if (q.limit <= 0) return []
    return guard('listing invocations', async () => {
      const docs = await this.invocations
        .find(q.filter, { projection: { _id: 1 } })
        .sort(q.sort)
        .skip(q.skip)
        .limit(q.limit)
        .toArray()
      return docs.map((d) => String(d._id))
    })
  }

  async addWaiting(waiterId: string, waitedIds: readonly string[]): Promise<void> {
    if (waitedIds.length === 0) return
    return guard('recording blocking-control edges', () =>
      coordination.addWaiting(this.colls, waiterId, waitedIds),
    )
  }

  async getBlockingInvocations(max: number): Promise<string[]> {
    if (max <= 0) return []
    return guard('reading blocking invocations', () => coordination.getBlockingInvocations(this.colls, max))
  }

  async heartbeat(runnerIds: readonly string[], canRunAtomicService: boolean): Promise<void> {
    if (runnerIds.length === 0) return
    return guard('recording runner heartbeats', () =>
      coordination.heartbeat(this.colls, runnerIds, canRunAtomicService),
    )
  }

  async getActiveRunners(timeoutMs: number): Promise<RunnerHeartbeat[]> {
    return guard('reading active runners', () => coordination.getActiveRunners(this.colls, timeoutMs))
  }

  async getPendingForRecovery(olderThanMs: number, limit: number): Promise<string[]> {
    if (limit <= 0) return []
    return guard('reading pending invocations for recovery', () =>
      coordination.getPendingForRecovery(this.colls, olderThanMs, limit),
    )
  }

  async getRunningForRecovery(deadAfterMs: number, limit: number): Promise<string[]> {
    if (limit <= 0) return []
    return guard('reading running invocations for recovery', () =>
      coordination.getRunningForRecovery(this.colls, deadAfterMs, limit),
    )
  }

  async subscribeFinal(listener: (ids: string[]) => void): Promise<Unsubscribe> {
    const remove = this.finals.add(listener)
    try {
      await this.ensureSource()
    } catch (err) {
      remove()
      throw err
    }
    return async () => {
      remove()
      if (this.finals.size === 0) await this.stopSource()
    }
  }

  private ensureSource(): Promise<void> {
    this.sourceStarting ??= (async () => {
      const invocations = this.invocations
      const window = new FinalsWindow()
      const prime = async () => {
        const newest = await invocations.findOne(
          { finishedAt: { $type: 'date' } },
          { sort: { finishedAt: -1 }, projection: { finishedAt: 1 } },
        )
        window.seed(newest?.finishedAt ? newest.finishedAt.getTime() : null, Date.now())
      }
      const source = new WakeSource(this.db, this.connection, {
        collection: invocations,
        pipeline: FINALS_FEED_PIPELINE,
        onChange: (event: Document) => {
          const id = event.documentKey?._id
          if (typeof id === 'string') this.finals.emit([id])
        },
        primePolling: prime,
        poll: async () => {
          if (!window.seeded) await prime()
          const docs = await invocations
            .find(finishedSinceFilter(window.lowerBound), { projection: { _id: 1, finishedAt: 1 } })
            .toArray()
          const fresh = window.absorb(
            docs
              .filter((d) => d.finishedAt instanceof Date)
              .map((d) => ({ id: String(d._id), finishedAt: d.finishedAt!.getTime() })),
            Date.now(),
          )
          if (fresh.length) this.finals.emit(fresh)
          return fresh.length > 0
        },
      })
      await guard('subscribing to final statuses', () => source.start())
      this.source = source
    })().catch((err) => {
      this.sourceStarting = null
      throw err
    })
    return this.sourceStarting
  }

  private async stopSource(): Promise<void> {
    const starting = this.sourceStarting
    this.sourceStarting = null
    await starting?.catch(() => {})
    const source = this.source
    this.source = null
    await source?.stop()
  }

  async purge(): Promise<void> {
    const { invocations, waits, runners } = this.colls
    await guard('purging the orchestrator', () =>
      Promise.all([invocations.deleteMany({}), waits.deleteMany({}), runners.deleteMany({})]),
    )
  }

  protected override async onClose(): Promise<void> {
    await this.stopSource()
    this.transport = null
  }
}
