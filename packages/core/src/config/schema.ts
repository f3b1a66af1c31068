import { availableParallelism } from 'node:os'
import { z } from 'zod'

/**
 * Every configuration key nenc reads, with its schema, default and meaning. Keys are dotted
 * paths (`runner.maxThreads`); the environment spells them `NENC__RUNNER__MAX_THREADS`.
 * Task options live under `task.*` (app-wide defaults) and `tasks.<name>.*` (one task).
 */
export interface FieldSpec {
  schema: z.ZodType
  default: unknown
  doc: string
}

const int = (min = 0) => z.number().int().min(min)
const concurrencyMode = z.enum(['disabled', 'task', 'arguments', 'keys'])

export const APP_FIELDS = {
  appId: {
    schema: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
    default: 'nenc',
    doc: 'App id: scopes every stored key; apps sharing a server never see each other.',
  },
  'devMode.syncTasks': {
    schema: z.boolean(),
    default: false,
    doc: 'Run every call inline at call time (tests, scripts).',
  },
  'runner.minParallelSlots': { schema: int(1), default: 1, doc: 'Lower bound of the slots a runner fills.' },
  'runner.minThreads': { schema: int(1), default: 1, doc: 'ThreadRunner: minimum concurrent invocations.' },
  'runner.maxThreads': {
    schema: int(0),
    default: 0,
    doc: `ThreadRunner: maximum concurrent invocations; 0 = CPU count (${availableParallelism()} here).`,
  },
  'runner.prefetch': {
    schema: int(0),
    default: 0,
    doc: 'ThreadRunner: invocations claimed ahead of free slots, started and held in a local queue until a slot frees (bigger batches for short tasks).',
  },
  'runner.heartbeatIntervalMs': {
    schema: int(10),
    default: 5000,
    doc: 'How often a runner records its heartbeat.',
  },
  'runner.idleWakeMs': {
    schema: int(10),
    default: 1000,
    doc: 'Safety net: an idle runner re-checks the queue this often even without a pushed wake-up.',
  },
  'runner.stopGraceMs': {
    schema: int(0),
    default: 10000,
    doc: 'On stop, how long running invocations get to finish on the stopping runner (no new claims meanwhile); what still runs then, and what waits for results at once, is killed and rerouted.',
  },
  'runner.progressThrottleMs': {
    schema: int(0),
    default: 500,
    doc: "A task's progress reports are stored at most this often (the first at once, the last one always); 0 = every report.",
  },
  'runner.handleSignals': {
    schema: z.boolean(),
    default: false,
    doc: 'Stop gracefully on SIGINT/SIGTERM when a runner is started in your own process (the CLI installs its own handlers).',
  },
  'orchestrator.blockingControl': {
    schema: z.boolean(),
    default: true,
    doc: 'Run invocations that others wait for first, most waiters first.',
  },
  'orchestrator.concurrencyRerouteDelayMs': {
    schema: int(0),
    default: 100,
    doc: 'Delay before a concurrency-blocked invocation that cannot wait parked (one in RETRY) is offered again.',
  },
  'orchestrator.maxPendingMs': {
    schema: int(100),
    default: 10_000,
    doc: 'Recovery: a PENDING invocation older than this was claimed by a runner that never started it; it is rerouted.',
  },
  'orchestrator.runnerDeadAfterMs': {
    schema: int(100),
    default: 60_000,
    doc: 'Recovery: a runner without heartbeat for this long is dead; its RUNNING invocations are rerouted.',
  },
  'orchestrator.lostQueuedAfterMs': {
    schema: int(100),
    default: 60_000,
    doc: 'Recovery: when the queue is empty, an invocation available for run for this long was lost between pop and claim; it is queued again.',
  },
  'orchestrator.stuckAfterMs': {
    schema: int(100),
    default: 5_000,
    doc: 'Recovery: an invocation left this long in KILLED, PENDING_RECOVERY or RUNNING_RECOVERY was stranded by a runner that died between the two steps of a reroute (a live runner leaves them at once); it is rerouted.',
  },
  'orchestrator.parkedRecheckMs': {
    schema: int(100),
    default: 60_000,
    doc: 'Recovery: an invocation waiting this long in CONCURRENCY_CONTROLLED for its running key is offered again, in case its wake-up was lost (the runner that released the key died before rerouting it); if the key is still held it waits again.',
  },
  'orchestrator.atomicServiceIntervalMs': {
    schema: int(100),
    default: 60_000,
    doc: 'Global services (recovery) run on one runner at a time: each active runner owns a slot of this period.',
  },
  'orchestrator.atomicServiceCheckMs': {
    schema: int(10),
    default: 5_000,
    doc: 'How often a runner checks whether its atomic-service slot is open.',
  },
  'orchestrator.resultPollMs': {
    schema: int(10),
    default: 2000,
    doc: 'Safety net: waiting callers re-check statuses this often besides pushed notifications.',
  },
  'orchestrator.progressPollMs': {
    schema: int(10),
    default: 1000,
    doc: '`invocation.onProgress` on a state backend that cannot push progress re-reads it this often.',
  },
  'orchestrator.waitOutageMs': {
    schema: int(0),
    default: 60_000,
    doc: 'A caller waiting for results rides out a backend outage this long (reads retried every resultPollMs, subscriptions made again), then fails with BackendUnavailableError.',
  },
  'orchestrator.noRunnerWarnAfterMs': {
    schema: int(0),
    default: 10_000,
    doc: 'A caller waiting for a result outside a task logs one warning per app when, after this long, no runner of the app is heartbeating (0 = never warn).',
  },
  'retention.finishedMs': {
    schema: int(1).nullable(),
    default: null,
    doc: 'Finished invocations (state, history, record, outcomes, progress) are removed once both their creation and their final status are older than this; null keeps them forever. Swept from the atomic-service slot; children of a running parent and invocations of a running workflow are kept until it ends.',
  },
  'retention.intervalMs': {
    schema: int(10),
    default: 60_000,
    doc: 'A runner sweeps finished invocations at most this often, from its atomic-service slot (when retention.finishedMs is set).',
  },
  'retention.pageSize': {
    schema: int(1).max(1000),
    default: 500,
    doc: 'Finished invocations examined (and at most removed) per batch of a retention sweep.',
  },
  'retention.maxPagesPerSweep': {
    schema: int(1),
    default: 10,
    doc: 'Batches one retention sweep handles before it gives the atomic-service slot back; the rest waits for the next sweep.',
  },
  'triggers.conditionRetentionMs': {
    schema: int(1000),
    default: 86_400_000,
    doc: 'A valid condition no trigger has used yet (half of an AND) is dropped this long after it became valid.',
  },
  'triggers.eventRetentionMs': {
    schema: int(1000),
    default: 7 * 86_400_000,
    doc: 'Emitted events are kept (for listing) this long; older ones are dropped when new ones are stored.',
  },
  'triggers.runRecoveryAfterMs': {
    schema: int(1000),
    default: 60_000,
    doc: 'A trigger run claimed by a runner that never routed it (killed in between) is routed by another runner once that runner has seen it unrouted this long. Keep it below triggers.conditionRetentionMs: the run needs its conditions.',
  },
  'triggers.cronLateToleranceMs': {
    schema: int(1000),
    default: 300_000,
    doc: "A cron scheduled time evaluated up to this late still fires (a dead runner's atomic-service slot is unserved until its heartbeat times out); older ones were missed and follow the trigger's missed policy.",
  },
  'workflow.eventPollMs': {
    schema: int(10).max(3_600_000),
    default: 250,
    doc: "How often a workflow in wf.waitForEvent() looks for its event in the trigger store (an event emitted in the waiter's own process wakes it at once).",
  },
  'clientDataStore.disabled': { schema: z.boolean(), default: false, doc: 'Keep every argument inline.' },
  'clientDataStore.minSizeToCache': {
    schema: int(1),
    default: 1024,
    doc: 'Serialized arguments at least this long (chars) are stored once by hash.',
  },
  'clientDataStore.localCacheSize': {
    schema: int(0),
    default: 1024,
    doc: 'Entries of the process-local cache of resolved large values.',
  },
} satisfies Record<string, FieldSpec>

/** Task options that config may set (app-wide under `task.*`, per task under `tasks.<name>.*`). */
export const TASK_FIELDS = {
  maxRetries: { schema: int(0), default: 0, doc: 'Retries allowed for retriable errors (0 = fail at once).' },
  retryBackoffMs: { schema: int(0), default: 0, doc: 'Delay before the first retry; doubles each retry.' },
  retryBackoffMaxMs: { schema: int(0), default: 60_000, doc: 'Upper bound of the retry delay.' },
  timeoutMs: { schema: int(0), default: 0, doc: 'Abort the task after this long (0 = no timeout).' },
  parallelBatchSize: {
    schema: int(0),
    default: 100,
    doc: 'Calls routed per batch by parallelize (0 = all at once).',
  },
  runningConcurrency: {
    schema: concurrencyMode,
    default: 'disabled',
    doc: 'At most one PENDING/RUNNING invocation per scope.',
  },
  registrationConcurrency: {
    schema: concurrencyMode,
    default: 'disabled',
    doc: 'Reuse a REGISTERED invocation of the same scope instead of queueing another.',
  },
  rerouteOnConcurrencyControl: {
    schema: z.boolean(),
    default: true,
    doc: 'When running concurrency blocks: true = wait for the key (CONCURRENCY_CONTROLLED, woken when the holder leaves), false = drop (CONCURRENCY_CONTROLLED_FINAL). Default true, as every queue does; pynenc drops.',
  },
  forceNewWorkflow: {
    schema: z.boolean(),
    default: false,
    doc: 'Start a sub-workflow even when called inside a workflow.',
  },
} satisfies Record<string, FieldSpec>

export type AppConfigKey = keyof typeof APP_FIELDS
export type TaskConfigKey = keyof typeof TASK_FIELDS
export type ConcurrencyMode = z.infer<typeof concurrencyMode>
