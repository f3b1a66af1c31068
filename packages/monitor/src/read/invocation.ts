import {
  decodeError,
  deserializeArgs,
  type HistoryEntry,
  type InvocationProgress,
  type InvocationRecord,
  type InvocationState,
  type Nenc,
} from '@nenc/core'

/** Everything the invocation view shows. */
export interface InvocationDetail {
  state: InvocationState
  record: InvocationRecord | null
  history: HistoryEntry[]
  /** Arguments as the runner reads them; the stored text when they cannot be read. */
  args: unknown
  outcome:
    | { kind: 'result'; value: unknown }
    | { kind: 'error'; name: string; message: string; stack?: string }
    | null
  /** Direct children (first page, newest first) with their states. */
  children: { id: string; state: InvocationState | null; record: InvocationRecord | null }[]
  moreChildren: boolean
  parent: { id: string; state: InvocationState | null } | null
  /** The last progress an attempt reported (`invocation.progress()`), null when none did. */
  progress: InvocationProgress | null
  /** One entry per attempt: the runner that claimed it (the owner after PENDING). */
  attempts: { attempt: number; runner: string | null; last: HistoryEntry }[]
}

const CHILDREN_SHOWN = 100

export async function readInvocation(app: Nenc, id: string): Promise<InvocationDetail | null> {
  const { orchestrator, stateBackend } = app.backend
  const [[state], [record], history] = await Promise.all([
    orchestrator.getStates([id]),
    stateBackend.getInvocations([id]),
    orchestrator.getHistory(id),
  ])
  if (!state) return null
  const [[stored], progress] = await Promise.all([
    stateBackend.getOutcomes([{ id, attempt: state.attempt }]),
    app.invocation(id).progress(),
  ])
  let outcome: InvocationDetail['outcome'] = null
  if (stored?.kind === 'result') outcome = { kind: 'result', value: readValue(app, stored.value) }
  if (stored?.kind === 'error') {
    const e = decodeError(stored.value)
    outcome = { kind: 'error', name: e.name, message: e.message, stack: e.stack }
  }
  const kids = await stateBackend.listInvocationRecords({ parentId: id, limit: CHILDREN_SHOWN })
  const [kidStates, kidRecords, parentState] = await Promise.all([
    orchestrator.getStates(kids.ids),
    stateBackend.getInvocations(kids.ids),
    record?.parentId ? orchestrator.getStates([record.parentId]) : Promise.resolve([null]),
  ])
  const args = record
    ? await deserializeArgs(app.serializer, record.args, app.backend.clientDataStore, app.largeValues).catch(
        () => record.args,
      )
    : null
  return {
    state,
    record: record ?? null,
    history,
    args,
    outcome,
    children: kids.ids.map((cid, i) => ({
      id: cid,
      state: kidStates[i] ?? null,
      record: kidRecords[i] ?? null,
    })),
    moreChildren: kids.next !== null,
    parent: record?.parentId ? { id: record.parentId, state: parentState[0] ?? null } : null,
    attempts: attemptsOf(history),
    progress,
  }
}

function readValue(app: Nenc, raw: string): unknown {
  try {
    return app.serializer.deserialize(raw)
  } catch {
    return raw
  }
}

/** Groups the history by attempt; the runner is the owner the attempt's PENDING entry gave. */
export function attemptsOf(history: readonly HistoryEntry[]): InvocationDetail['attempts'] {
  const byAttempt = new Map<number, { attempt: number; runner: string | null; last: HistoryEntry }>()
  for (const h of history) {
    if (h.attempt === 0) continue
    const a = byAttempt.get(h.attempt)
    if (!a) byAttempt.set(h.attempt, { attempt: h.attempt, runner: h.owner, last: h })
    else {
      a.last = h
      a.runner ??= h.owner
    }
  }
  return [...byAttempt.values()]
}

export const MASKED = '••• masked by the monitor (task listed in --mask)'

/** The detail with arguments, progress, result and error text hidden (the error's name stays). */
export function masked(d: InvocationDetail): InvocationDetail {
  const outcome: InvocationDetail['outcome'] =
    d.outcome === null
      ? null
      : d.outcome.kind === 'result'
        ? { kind: 'result', value: MASKED }
        : { kind: 'error', name: d.outcome.name, message: MASKED }
  const progress = d.progress === null ? null : { ...d.progress, value: MASKED }
  return { ...d, args: MASKED, outcome, progress }
}
