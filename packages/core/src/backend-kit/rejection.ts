import type { InvocationState, TransitionOutcome } from '../interfaces/orchestrator.js'
import type { TransitionRejection } from '../invocation/status.js'

/**
 * The `TransitionOutcome` of a `checkTransition` rejection, with the stored state as `current`:
 * what every backend that validates in process returns for a refused request.
 */
export function rejectionOutcome(check: TransitionRejection, current: InvocationState): TransitionOutcome {
  switch (check.reason) {
    case 'invalid_transition':
      return { ok: false, reason: 'invalid_transition', current, allowed: check.allowed }
    case 'ownership':
      return { ok: false, reason: 'ownership', current, detail: check.detail }
    case 'stale':
      return { ok: false, reason: 'stale', current, attempt: check.attempt }
  }
}
