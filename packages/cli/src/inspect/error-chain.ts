import { decodeError, type Nenc, type RemoteErrorInfo } from '@nenc/core'

/** One invocation on the way from a failed invocation to where its error was first thrown. */
export interface ErrorLink {
  invocationId: string
  task: string | null
  name: string
  message: string
  stack?: string
  /** Why the chain stops here without reaching the origin (outcome gone, a cycle, too deep). */
  note?: string
}

/** Chains are short in practice (one link per nesting level); this bounds a corrupt one. */
const MAX_LINKS = 32

const link = (invocationId: string, task: string | null, e: RemoteErrorInfo): ErrorLink => ({
  invocationId,
  task,
  name: e.name,
  message: e.message,
  ...(e.stack ? { stack: e.stack } : {}),
})

/** `from` as stored, or null when absent or not of the expected shape (foreign data). */
function fromOf(e: RemoteErrorInfo): { invocationId: string; taskName: string } | null {
  const f = e.from
  return f && typeof f.invocationId === 'string' && typeof f.taskName === 'string' ? f : null
}

/**
 * The error chain of a failed invocation: its own error, then the invocation it re-raised
 * (`from`, set when a parent's failure is a child's error), and so on to the invocation that
 * threw first — one read of state and outcome per link.
 */
export async function readErrorChain(
  app: Nenc,
  start: { invocationId: string; task: string | null; error: RemoteErrorInfo },
): Promise<ErrorLink[]> {
  const chain = [link(start.invocationId, start.task, start.error)]
  const seen = new Set([start.invocationId])
  let next = fromOf(start.error)
  while (next) {
    const last = chain[chain.length - 1]!
    if (seen.has(next.invocationId)) {
      last.note = `error names invocation ${next.invocationId} again (a cycle); chain stops`
      break
    }
    if (chain.length >= MAX_LINKS) {
      last.note = `chain longer than ${MAX_LINKS} invocations; stops at ${next.invocationId}`
      break
    }
    seen.add(next.invocationId)
    const [state] = await app.backend.orchestrator.getStates([next.invocationId])
    const [outcome] = state
      ? await app.backend.stateBackend.getOutcomes([{ id: next.invocationId, attempt: state.attempt }])
      : [null]
    if (outcome?.kind !== 'error') {
      chain.push({
        invocationId: next.invocationId,
        task: next.taskName,
        name: '?',
        message: '',
        note: state
          ? `its stored outcome is not an error (status ${state.status})`
          : 'invocation no longer exists',
      })
      break
    }
    const error = decodeError(outcome.value)
    chain.push(link(next.invocationId, next.taskName, error))
    next = fromOf(error)
  }
  return chain
}
