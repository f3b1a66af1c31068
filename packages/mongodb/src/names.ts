import { createHash } from 'node:crypto'
import { ConfigError } from '@nenc/core'

/** Every collection nenc uses for one app; built only here. */
export interface CollectionNames {
  /** Orchestrator: one document per invocation (status, owner, retries, history). */
  invocations: string
  /** Orchestrator: blocking-control edges (waiter → waited). */
  waits: string
  /** Orchestrator: runner heartbeats. */
  runners: string
  /** Broker: queued invocation ids. */
  queue: string
  /** State backend: invocation records. */
  records: string
  /** State backend: outcomes, one document per (invocation, attempt), written once. */
  outcomes: string
  /** State backend: workflow key/value data. */
  workflowData: string
  /** State backend: runner contexts. */
  runnerContexts: string
  /** State backend: the latest progress per invocation. */
  progress: string
  /** Client data store: large serialized values by content hash. */
  clientData: string
  /** Trigger store: trigger definitions, one document per task. */
  triggers: string
  /** Trigger store: satisfied (condition, context) pairs. */
  validConditions: string
  /** Trigger store: last cron execution per condition. */
  cron: string
  /** Trigger store: claimed trigger runs (set-if-absent with expiry). */
  triggerRuns: string
  /** Trigger store: emitted events, trimmed to the retention when one is added. */
  events: string
}

const SUFFIXES: Readonly<CollectionNames> = {
  invocations: 'invocations',
  waits: 'waits',
  runners: 'runners',
  queue: 'queue',
  records: 'records',
  outcomes: 'outcomes',
  workflowData: 'workflow_data',
  runnerContexts: 'runner_contexts',
  progress: 'progress',
  clientData: 'client_data',
  triggers: 'triggers',
  validConditions: 'valid_conditions',
  cron: 'cron',
  triggerRuns: 'trigger_runs',
  events: 'events',
}

/** MongoDB's limit on `<database>.<collection>` in bytes (4.4 and later). */
export const MAX_NAMESPACE_BYTES = 255

/**
 * The collection prefix of one app: `<collectionPrefix>_<appId>_`. Core restricts app ids to
 * letters, digits, `_ . -`; any other character (a component used alone with a free-form id) is
 * replaced by `_` and a short hash of the original id is appended, so distinct ids never share
 * collections.
 */
export function appPrefix(collectionPrefix: string, appId: string): string {
  if (appId.length === 0) throw new ConfigError('appId', 'init()', 'the app id must not be empty.')
  if (/^[A-Za-z0-9_.-]+$/.test(appId)) return `${collectionPrefix}_${appId}_`
  const safe = appId.replace(/[^A-Za-z0-9_.-]/g, '_')
  const hash = createHash('sha256').update(appId).digest('hex').slice(0, 8)
  return `${collectionPrefix}_${safe}-${hash}_`
}

/** The names of every collection of one app under `prefix` (from {@link appPrefix}). */
export function collectionNames(prefix: string): CollectionNames {
  const out = {} as CollectionNames
  for (const key of Object.keys(SUFFIXES) as (keyof CollectionNames)[]) out[key] = prefix + SUFFIXES[key]
  return out
}

/** Throws {@link ConfigError} when a namespace of the app would exceed MongoDB's limit. */
export function checkNamespaceLength(database: string, names: CollectionNames): void {
  for (const name of Object.values(names)) {
    if (Buffer.byteLength(`${database}.${name}`) > MAX_NAMESPACE_BYTES) {
      throw new ConfigError(
        'collectionPrefix',
        'init()',
        `the namespace "${database}.${name}" is longer than ${MAX_NAMESPACE_BYTES} bytes; use a shorter database name, prefix or app id.`,
      )
    }
  }
}

let counter = 0
const PROCESS_TAG = createHash('sha256')
  .update(`${process.pid}:${Date.now()}:${Math.random()}`)
  .digest('base64url')
  .slice(0, 10)

/**
 * A token that identifies one guarded write across processes. It is stored with the history
 * entry the write appends, which is how a batch learns which of its writes won when the server
 * reports only how many matched.
 */
export function newOpToken(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${PROCESS_TAG}${counter.toString(36)}`
}

/** Id of the `index`-th chunk document of a client-data value too large for one document. */
export const chunkId = (key: string, index: number): string => `${key}#chunk${index}`
