import { InvalidEventError } from '../errors.js'
import { newInvocationId } from '../ids.js'
import type { StoredEvent } from '../interfaces/trigger-store.js'
import { FINAL_STATUSES, STATUSES } from '../invocation/status.js'
import { deserializeArgs } from '../orchestration/args.js'
import { decodeError } from '../orchestration/errors-codec.js'
import { routeCalls } from '../orchestration/router.js'
import type { NencRuntime } from '../runtime.js'
import type { ConditionSpec } from './conditions.js'
import type { ConditionContext } from './contexts.js'
import { cronTicks } from './cron-ticks.js'
import { type ResolvedTrigger, resolveTriggers } from './declare.js'
import { type DueRun, planRuns } from './fire.js'
import { ringEventEmitted } from './local-events.js'
import { PredicateRegistry } from './predicates.js'
import { TriggerRegistry } from './registry.js'
import { RunsInDoubt, settledKey, triggerRunInvocationId } from './run-recovery.js'
import { type FinishedAttempt, type MatchingDeps, matchEvent, matchFinished } from './source-matching.js'
import type { StoredContext } from './valid-conditions.js'

/** What one evaluation pass did. */
export interface TriggerPassReport {
  /** Cron scheduled times this runner turned into valid conditions. */
  cronTicks: number
  /** Runs this runner claimed and routed. */
  fired: { triggerId: string; taskName: string; invocationId: string }[]
  /** Runs claimed but not routed because an earlier invocation of the task was active (overlap 'skip'). */
  skippedOverlap: number
  /** Runs claimed whose arguments could not be computed (logged). */
  failedArgs: number
  /** Valid conditions cleared (used by every trigger that reads them, or expired). */
  cleared: number
  /**
   * Runs another runner claimed but never routed (killed in between) that this runner routed
   * after `triggers.runRecoveryAfterMs`; they are also in `fired` unless dropped.
   */
  recovered: number
}

/** What firing one run did: routed (an invocation exists), dropped for good, or no such task here. */
type FireOutcome = 'routed' | 'dropped' | 'unknown-task'

/** One declared trigger as `nenc trigger list` shows it. */
export interface TriggerListing {
  id: string
  taskName: string
  logic: 'and' | 'or'
  conditions: { id: string; spec: ConditionSpec }[]
  overlap: string
  missed: unknown
  /** Latest stored cron execution among its cron conditions (ms epoch), or null. */
  lastRun: number | null
  /** Next scheduled time among its cron conditions after now, or null (no cron condition). */
  nextRun: number | null
}

const NOT_FINAL = STATUSES.filter((s) => !FINAL_STATUSES.includes(s))

/**
 * The triggers of one app: declaration, matching at the source (finishes, events) and the
 * evaluation pass that runners call in their atomic-service slot. An app without triggers pays
 * nothing: every hook returns before touching the backend.
 */
export class TriggerEngine {
  readonly registry = new TriggerRegistry()
  readonly predicates = new PredicateRegistry()
  private registered: Promise<void> | null = null
  private readonly lastSeen = new Map<string, number>()
  private readonly inDoubt = new RunsInDoubt()

  constructor(private readonly rt: NencRuntime) {}

  get hasTriggers(): boolean {
    return !this.registry.isEmpty
  }

  /** True when status, result or exception conditions watch `taskName`. */
  watches(taskName: string): boolean {
    return this.registry.watches(taskName)
  }

  /** Checks and adds the triggers of a task being defined; throws TriggerDefinitionError. */
  declare(taskName: string, fn: (...args: never[]) => unknown, triggers: readonly unknown[]): void {
    const resolved = resolveTriggers(
      {
        appId: this.rt.appId,
        serializer: this.rt.serializer,
        predicates: this.predicates,
        getTask: (n) => this.rt.getTask(n),
      },
      taskName,
      fn,
      triggers,
    )
    this.registry.add(resolved)
    this.registered = null
  }

  /** Stores every task's trigger definitions (for listings); once per process, again after a failure. */
  register(): Promise<void> {
    if (!this.hasTriggers) return Promise.resolve()
    this.registered ??= (async () => {
      await this.rt.ready()
      const tasks = new Set(this.registry.triggers.map((t) => t.taskName))
      for (const name of tasks) {
        const defs = this.registry.ofTask(name).map((t) => t.definition)
        await this.rt.backend.triggerStore.setTaskTriggers(defs[0]!.taskId, defs)
      }
    })().catch((err) => {
      this.registered = null
      throw err
    })
    return this.registered
  }

  private get deps(): MatchingDeps {
    return {
      registry: this.registry,
      predicates: this.predicates,
      serializer: this.rt.serializer,
      logger: this.rt.logger,
    }
  }

  private argsOf = (text: string): Promise<unknown[]> =>
    deserializeArgs(this.rt.serializer, text, this.rt.backend.clientDataStore, this.rt.largeValues)

  /** Records the conditions that attempts which just ended satisfy (one write, none when nothing matches). */
  async reportFinished(attempts: readonly FinishedAttempt[]): Promise<void> {
    if (!this.hasTriggers || attempts.length === 0) return
    const valid = await matchFinished(this.deps, attempts, Date.now(), this.argsOf)
    if (valid.length) await this.rt.backend.triggerStore.addValidConditions(valid)
  }

  /**
   * Stores an event (kept `triggers.eventRetentionMs`), records the event conditions it
   * satisfies and returns its id.
   */
  async emitEvent(code: string, payload: unknown = null): Promise<string> {
    if (typeof code !== 'string' || code.length === 0)
      throw new InvalidEventError(`an event code must be a non-empty string, not ${JSON.stringify(code)}`)
    const payloadText = this.rt.serializer.serialize(payload, `the payload of event "${code}"`)
    await this.rt.ready()
    const event: StoredEvent = { id: newInvocationId(), code, payload: payloadText, emittedAt: Date.now() }
    const store = this.rt.backend.triggerStore
    await store.addEvent(event, this.rt.config.value<number>('triggers.eventRetentionMs'))
    ringEventEmitted(this.rt.appId, code) // a wf.waitForEvent() in this process looks now
    const valid = matchEvent(this.deps, {
      eventId: event.id,
      code,
      payload: this.rt.serializer.deserialize(payloadText),
      payloadText,
      emittedAt: event.emittedAt,
    })
    if (valid.length) await store.addValidConditions(valid)
    return event.id
  }

  /**
   * One evaluation pass at `now` (injectable for tests): cron ticks, then every due run is
   * claimed (exactly one caller wins per run id) and its task called; used and expired valid
   * conditions are cleared. Runners call it in their atomic-service slot; concurrent passes on
   * several runners are safe, only slower.
   */
  async evaluate(now = Date.now()): Promise<TriggerPassReport> {
    const report: TriggerPassReport = {
      cronTicks: 0,
      fired: [],
      skippedOverlap: 0,
      failedArgs: 0,
      cleared: 0,
      recovered: 0,
    }
    if (!this.hasTriggers) return report
    await this.register()
    const store = this.rt.backend.triggerStore
    const cfg = this.rt.config
    const lateToleranceMs = cfg.value<number>('triggers.cronLateToleranceMs')
    // Stored by cronTicks itself, before the last execution moves (a crash in between loses none).
    const ticks = await cronTicks(store, this.registry.cronConditions(), now, lateToleranceMs, this.lastSeen)
    report.cronTicks = ticks.length
    const retentionMs = cfg.value<number>('triggers.conditionRetentionMs')
    const plan = planRuns(
      this.registry.triggers,
      this.registry.byCondition,
      await store.getValidConditions(),
      now,
      retentionMs,
      lateToleranceMs,
    )
    const ttl = this.claimTtl()
    // Triggers in parallel; one trigger's runs in order, so an overlap check sees the run before.
    const byTrigger = new Map<string, DueRun[]>()
    for (const run of plan.runs)
      byTrigger.set(run.trigger.id, [...(byTrigger.get(run.trigger.id) ?? []), run])
    const lost: DueRun[] = []
    await Promise.all(
      [...byTrigger.values()].map(async (runs) => {
        for (const run of runs) {
          const claimedAt = Date.now()
          if (await store.claimTriggerRun(run.runId, ttl)) await this.fire(run, report, claimedAt)
          else lost.push(run)
        }
      }),
    )
    // Conditions are cleared only once their runs are routed (or dropped): the conditions of a
    // run whose claimant died before routing stay, so that the run can be recovered.
    const kept = await this.recoverLost(lost, now, ttl, report)
    const clear = plan.clear.filter((id) => !kept.has(id))
    if (clear.length) await store.clearValidConditions(clear)
    report.cleared = clear.length
    if (report.fired.length || report.cronTicks)
      this.rt.logger.debug({ ...report, fired: report.fired.length }, 'trigger pass')
    return report
  }

  /**
   * Runs claimed by another evaluator: those with an invocation (their derived id) are done;
   * the others are in doubt — their claimant is routing them right now, or died after its
   * claim. A run in doubt for `triggers.runRecoveryAfterMs` (as this runner saw it) is fired
   * here by the one evaluator that takes its settled key. Returns the valid conditions to keep.
   */
  private async recoverLost(
    lost: readonly DueRun[],
    now: number,
    ttl: number,
    report: TriggerPassReport,
  ): Promise<Set<string>> {
    const kept = new Set<string>()
    const states = lost.length
      ? await this.rt.backend.orchestrator.getStates(lost.map(triggerRunInvocationId))
      : []
    const doubtful = lost.filter((_, i) => states[i] === null)
    const afterMs = this.rt.config.value<number>('triggers.runRecoveryAfterMs')
    const due = this.inDoubt.observe(
      doubtful.map((r) => r.runId),
      now,
      afterMs,
    )
    const store = this.rt.backend.triggerStore
    for (const run of doubtful) {
      if (!due.has(run.runId)) {
        for (const c of run.conditions) kept.add(c.valid.id)
        continue
      }
      this.inDoubt.forget(run.runId)
      // Lost: another runner recovered it, or its claimant dropped it for good.
      if (!(await store.claimTriggerRun(settledKey(run.runId), ttl))) continue
      report.recovered++
      this.rt.logger.warn(
        { trigger: run.trigger.id, task: run.trigger.taskName, runId: run.runId },
        'trigger run claimed but never routed (its runner died?): routing it now',
      )
      await this.fire(run, report, null)
    }
    return kept
  }

  /**
   * Fires one run: `claimedAt` (real clock) when this evaluator won its claim, null for a
   * recovery (which already holds the settled key). Routed under the run's derived id; a run
   * dropped for good (overlap, failed arguments) or folded into another invocation (registration
   * concurrency) takes its settled key, so that no observer mistakes it for a run whose claimant
   * died.
   */
  private async fire(run: DueRun, report: TriggerPassReport, claimedAt: number | null): Promise<FireOutcome> {
    // A claimant frozen past the recovery wait may have been recovered meanwhile: it looks
    // before routing, so that it does not write the record of an invocation that may have run.
    const late =
      claimedAt !== null &&
      Date.now() - claimedAt >= this.rt.config.value<number>('triggers.runRecoveryAfterMs')
    if (late) {
      const [state] = await this.rt.backend.orchestrator.getStates([triggerRunInvocationId(run)])
      if (state) return 'routed'
    }
    const outcome = await this.route(run, report)
    if (outcome === 'dropped' && claimedAt !== null)
      await this.rt.backend.triggerStore.claimTriggerRun(settledKey(run.runId), this.claimTtl())
    return outcome
  }

  /**
   * A claim outlives the valid conditions it covers: one still waiting for an AND partner is
   * seen again by later passes, and must not fire its OR triggers twice.
   */
  private claimTtl(): number {
    return 2 * this.rt.config.value<number>('triggers.conditionRetentionMs') + 60_000
  }

  private async route(run: DueRun, report: TriggerPassReport): Promise<FireOutcome> {
    const t = run.trigger
    const task = this.rt.getTask(t.taskName)
    if (!task) return 'unknown-task'
    if (t.overlap === 'skip') {
      const active = await this.rt.backend.orchestrator.listInvocations({
        taskId: task.id,
        statuses: NOT_FINAL,
        limit: 1,
      })
      if (active.length) {
        report.skippedOverlap++
        return 'dropped'
      }
    }
    let args: unknown[]
    try {
      args = await this.argumentsFor(t, run)
    } catch (err) {
      report.failedArgs++
      this.rt.logger.error(
        { err, trigger: t.id, task: t.taskName },
        'trigger arguments could not be computed; run dropped',
      )
      return 'dropped'
    }
    const id = triggerRunInvocationId(run)
    const [inv] = await routeCalls(this.rt, task, [args], { ids: [id] })
    report.fired.push({ triggerId: t.id, taskName: t.taskName, invocationId: inv!.id })
    // Reused by registration concurrency: no invocation carries the derived id.
    return inv!.id === id ? 'routed' : 'dropped'
  }

  private async argumentsFor(t: ResolvedTrigger, run: DueRun): Promise<unknown[]> {
    const provider = t.args
    if (provider === undefined) return []
    if (Array.isArray(provider)) return [...provider]
    const contexts = await Promise.all(run.conditions.map((c) => this.hydrate(c.context)))
    const input = t.shape === 'all' ? { kind: 'all', contexts } : contexts[0]
    const args = await (provider as (input: unknown) => unknown)(input)
    if (!Array.isArray(args))
      throw new TypeError(
        `the argument provider of a trigger of "${t.taskName}" returned ${typeof args}, not a list`,
      )
    return args
  }

  private async hydrate(c: StoredContext): Promise<ConditionContext> {
    const s = this.rt.serializer
    switch (c.kind) {
      case 'cron':
        return { kind: 'cron', scheduledAt: c.scheduledAt }
      case 'event':
        return {
          kind: 'event',
          eventId: c.eventId,
          code: c.code,
          payload: s.deserialize(c.payload),
          emittedAt: c.emittedAt,
        }
      case 'status':
        return {
          kind: 'status',
          invocationId: c.invocationId,
          taskName: c.taskName,
          status: c.status,
          args: await this.argsOf(c.args),
        }
      case 'result':
        return {
          kind: 'result',
          invocationId: c.invocationId,
          taskName: c.taskName,
          args: await this.argsOf(c.args),
          result: s.deserialize(c.result),
        }
      case 'exception':
        return {
          kind: 'exception',
          invocationId: c.invocationId,
          taskName: c.taskName,
          args: await this.argsOf(c.args),
          error: decodeError(c.error),
        }
    }
  }

  /** Every declared trigger with its last and next cron run, for listings (`nenc trigger list`). */
  async list(now = Date.now()): Promise<TriggerListing[]> {
    await this.rt.ready()
    const store = this.rt.backend.triggerStore
    const crons = new Map(this.registry.cronConditions().map((c) => [c.id, c]))
    return Promise.all(
      this.registry.triggers.map(async (t) => {
        let lastRun: number | null = null
        let nextRun: number | null = null
        for (const c of t.conditions) {
          const cron = crons.get(c.id)
          if (!cron) continue
          const last = await store.getLastCronExecution(c.id)
          if (last !== null) lastRun = Math.max(lastRun ?? last, last)
          const next = cron.schedule.nextAfter(Math.max(now, last ?? now))
          if (next !== null) nextRun = Math.min(nextRun ?? next, next)
        }
        return {
          id: t.id,
          taskName: t.taskName,
          logic: t.logic,
          conditions: t.conditions.map((c) => ({ id: c.id, spec: c.spec })),
          overlap: t.overlap,
          missed: t.missed,
          lastRun,
          nextRun,
        }
      }),
    )
  }
}
