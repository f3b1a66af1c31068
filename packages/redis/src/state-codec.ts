import type { InvocationRecord, Outcome, ProgressRecord, RunnerContextRecord } from '@nenc/core'
import { corrupt } from './errors-from-code.js'

/**
 * Encoding of the state backend's values. Records and runner contexts are JSON strings (read
 * back with one MGET / GET and parsed in Node, never in Lua); outcomes are the serialized value
 * behind a one-letter kind (`r` result, `e` error). Anything else read back is
 * `CorruptDataError`, never a crash.
 */
const isStr = (v: unknown): v is string => typeof v === 'string'
const isStrOrNull = (v: unknown): boolean => v === null || typeof v === 'string'
/** An optional trace context: absent, or an object of string entries. */
const isTraceContext = (v: unknown): boolean =>
  v === undefined ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isStr))

function parseJson(raw: string, location: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw corrupt(location, 'it is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw corrupt(location, 'it is not a JSON object')
  return value as Record<string, unknown>
}

export function parseRecord(raw: string, id: string, location: string): InvocationRecord {
  const r = parseJson(raw, location)
  const w = r.workflow as Record<string, unknown> | null | undefined
  const ok =
    r.id === id &&
    isStr(r.taskId) &&
    isStr(r.taskName) &&
    isStr(r.callId) &&
    isStr(r.args) &&
    isStrOrNull(r.parentId) &&
    typeof r.createdAt === 'number' &&
    (r.runAt === undefined || typeof r.runAt === 'number') &&
    typeof w === 'object' &&
    w !== null &&
    isStr(w.id) &&
    isStr(w.type) &&
    isStrOrNull(w.parentWorkflowId) &&
    isTraceContext(r.traceContext)
  if (!ok) throw corrupt(location, 'it is not an invocation record')
  return r as unknown as InvocationRecord
}

export function encodeOutcome(outcome: Outcome): string {
  return (outcome.kind === 'result' ? 'r' : 'e') + outcome.value
}

export function parseOutcome(raw: string, location: string): Outcome {
  const kind = raw[0]
  if (kind === 'r') return { kind: 'result', value: raw.slice(1) }
  if (kind === 'e') return { kind: 'error', value: raw.slice(1) }
  throw corrupt(location, 'it is not an invocation outcome')
}

export function parseRunnerContext(raw: string, runnerId: string, location: string): RunnerContextRecord {
  const r = parseJson(raw, location)
  const ok =
    r.runnerId === runnerId &&
    isStr(r.runnerClass) &&
    isStrOrNull(r.parentRunnerId) &&
    typeof r.pid === 'number' &&
    isStr(r.hostname) &&
    typeof r.startedAt === 'number' &&
    (r.slots === undefined || typeof r.slots === 'number')
  if (!ok) throw corrupt(location, 'it is not a runner context')
  return r as unknown as RunnerContextRecord
}

/** A progress key's value: `<attempt>\n<updatedAt>\n<value>` (see the set-progress script). */
export function parseProgress(raw: string, id: string, location: string): ProgressRecord {
  const a = raw.indexOf('\n')
  const b = a < 0 ? -1 : raw.indexOf('\n', a + 1)
  const attempt = Number(raw.slice(0, a))
  const updatedAt = Number(raw.slice(a + 1, b))
  if (b < 0 || !Number.isInteger(attempt) || !Number.isFinite(updatedAt))
    throw corrupt(location, 'it is not an invocation progress')
  return { id, attempt, updatedAt, value: raw.slice(b + 1) }
}

/** A progress-channel message: a JSON array of `[id, attempt, updatedAt, value]`; anything else is dropped. */
export function parseProgressMessage(message: string): ProgressRecord[] {
  let entries: unknown
  try {
    entries = JSON.parse(message)
  } catch {
    return []
  }
  if (!Array.isArray(entries)) return []
  const out: ProgressRecord[] = []
  for (const e of entries) {
    if (!Array.isArray(e)) continue
    const [id, attempt, updatedAt, value] = e as unknown[]
    if (isStr(id) && typeof attempt === 'number' && typeof updatedAt === 'number' && isStr(value))
      out.push({ id, attempt, updatedAt, value })
  }
  return out
}
