export type { NencOptions } from './app.js'
export { Nenc } from './app.js'
// Backend kit: what every backend would otherwise write again.
export type { KeysetPosition } from './backend-kit/index.js'
export {
  AppBinding,
  CoalescingNotifier,
  checkFilter,
  checkRecordQuery,
  DEFAULT_PAGE_LIMIT,
  decodeCursor,
  encodeCursor,
  isAfter,
  latestProgress,
  MAX_PAGE_LIMIT,
  newestFirst,
  pageOfPositions,
  pageRequest,
  readFinalNotification,
  rejectionOutcome,
  WaitsTracker,
} from './backend-kit/index.js'
export type {
  ConfigInput,
  ConfigRow,
  ConfigSource,
  LoadConfigOptions,
  ResolvedValue,
} from './config/config.js'
export { envName, envSegment, NencConfig, taskEnvName } from './config/config.js'
export type { ConcurrencyMode } from './config/schema.js'
export { APP_FIELDS, TASK_FIELDS } from './config/schema.js'
export type { InvocationContext, WaitHooks } from './context.js'
export { context, currentContext } from './context.js'
export type { NencErrorCode, RemoteErrorInfo } from './errors.js'
export {
  AbortedError,
  BackendError,
  BackendUnavailableError,
  CancelRefusedError,
  ConcurrencyControlledError,
  ConfigError,
  CorruptDataError,
  InvalidEventError,
  InvalidQueryError,
  InvalidScheduleError,
  InvalidTransitionError,
  InvocationCanceledError,
  InvocationNotFoundError,
  NencError,
  NonDeterminismError,
  OwnershipError,
  ResultTimeoutError,
  RetryError,
  RunnerError,
  RunnerIncompatibleError,
  SerializationError,
  TaskDefinitionError,
  TaskError,
  TaskNotFoundError,
  TaskTimeoutError,
  TriggerDefinitionError,
  WorkflowContextError,
  WorkflowVersionError,
} from './errors.js'
export { callIdOf, externalRunnerId, newInvocationId, newRunnerId, sha256, taskIdOf } from './ids.js'
export type { Backend } from './interfaces/backend.js'
export { COMPONENT_NAMES } from './interfaces/backend.js'
export type { Broker, BrokerCapabilities, RouteOptions } from './interfaces/broker.js'
export type { ClientDataStore } from './interfaces/client-data-store.js'
export type { Component, ComponentContext, Unsubscribe } from './interfaces/component.js'
export type {
  ClaimBatch,
  ClaimedInvocation,
  FinalRead,
  FinishRequest,
  FinishResult,
  FusedSteps,
} from './interfaces/fused-steps.js'
export type {
  InvocationCount,
  InvocationCountQuery,
  InvocationFilter,
  InvocationPage,
  InvocationPageQuery,
  PageRequest,
  RecordPageQuery,
} from './interfaces/listing.js'
export type {
  ClaimOutcome,
  FinalOutcomes,
  HistoryEntry,
  InvocationState,
  ListInvocationsQuery,
  Orchestrator,
  OrchestratorCapabilities,
  RegisterRequest,
  RegisterResult,
  RunnerHeartbeat,
  TransitionOutcome,
  TransitionRequest,
} from './interfaces/orchestrator.js'
export type {
  InvocationRecord,
  Outcome,
  OutcomeRef,
  ProgressRecord,
  RunnerContextRecord,
  StateBackend,
  WorkflowIdentity,
} from './interfaces/state-backend.js'
export type {
  EventCursor,
  ListEventsQuery,
  StoredEvent,
  TriggerDefinition,
  TriggerStore,
} from './interfaces/trigger-store.js'
export { DistributedInvocation } from './invocation/distributed-invocation.js'
export { InvocationGroup } from './invocation/group.js'
export type { Invocation, ResultOptions } from './invocation/invocation.js'
export type {
  InvocationStatus,
  StatusDefinition,
  StatusRecord,
  TransitionCheck,
} from './invocation/status.js'
export {
  ACTIVE_STATUSES,
  AVAILABLE_FOR_RUN_STATUSES,
  CANCELABLE_STATUSES,
  checkTransition,
  FINAL_STATUSES,
  INITIAL_STATUS,
  isActive,
  isAvailableForRun,
  isFinal,
  isStatus,
  isValidStatusPath,
  STATUS_TABLE,
  STATUSES,
  statusTableJson,
} from './invocation/status.js'
export { statusTableMarkdown } from './invocation/status-doc.js'
export { invocationLogFields } from './log-fields.js'
export type { CreateLoggerOptions, LogFn, LogFormat, Logger } from './logger.js'
export { createLogger, logFormat } from './logger.js'
export { deserializeArgs } from './orchestration/args.js'
export { isInServiceWindow } from './orchestration/atomic-service.js'
export type { ClaimRound } from './orchestration/claim.js'
export {
  getInvocationsToRun,
  killAndReroute,
  rerouteUnstarted,
  settleUnclaimed,
  wakeReleased,
  warnStale,
} from './orchestration/claim.js'
export { composedSteps, stepsOf, withRecords } from './orchestration/composed-steps.js'
export { decodeError, describeError, encodeError } from './orchestration/errors-codec.js'
export type { ExecutionControl, StartedInvocation } from './orchestration/executor.js'
export { InvocationExecutor, KILLED, LazyAbortController } from './orchestration/executor.js'
export { FinishBatcher } from './orchestration/finish-batcher.js'
export { type InvocationProgress, MAX_PROGRESS_CHARS } from './orchestration/progress.js'
export type { RecoveryReport } from './orchestration/recovery.js'
export { recoverInvocations } from './orchestration/recovery.js'
export { MAX_INLINE_OUTCOME_CHARS } from './orchestration/result-waiter.js'
export type { RetentionReport, SweepOptions } from './orchestration/retention.js'
export { sweepFinished } from './orchestration/retention.js'
export { transitionOrThrow } from './orchestration/transition.js'
export { BaseRunner } from './runner/base-runner.js'
export { DummyRunner } from './runner/dummy-runner.js'
export type { NencRuntime } from './runtime.js'
export { defaultSerializer, JsonSerializer } from './serializer/json-serializer.js'
export type { Serializer } from './serializer/serializer.js'
export type {
  AnyTask,
  ErrorClass,
  ResolvedTaskOptions,
  ScheduleOptions,
  Task,
  TaskOptions,
} from './task.js'
export type {
  ArgsProvider,
  ConditionSpec,
  CronOptions,
  EventOptions,
  MissedPolicy,
  OverlapPolicy,
  Trigger,
  TriggerOptions,
  WatchOptions,
} from './triggers/conditions.js'
export { allOf, anyOf, onCron, onEvent, onException, onResult, onStatus } from './triggers/conditions.js'
export type {
  AllContext,
  ConditionContext,
  CronContext,
  EventContext,
  ExceptionContext,
  ResultContext,
  StatusContext,
  WatchedStatus,
} from './triggers/contexts.js'
export { WATCHED_STATUSES } from './triggers/contexts.js'
export { cronSchedule } from './triggers/cron.js'
export { describeCondition } from './triggers/describe.js'
export type { TriggerListing, TriggerPassReport } from './triggers/engine.js'
export { TriggerEngine } from './triggers/engine.js'
export type { NamedPredicate, PredicateLike } from './triggers/predicates.js'
export { predicate } from './triggers/predicates.js'
export type { WaitedEvent, WaitForEventOptions } from './workflow/event-wait.js'
export type { WorkflowContext } from './workflow/workflow-context.js'
export { workflow } from './workflow/workflow-context.js'
