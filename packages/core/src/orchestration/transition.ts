import { InvalidTransitionError, InvocationNotFoundError, OwnershipError } from '../errors.js'
import type { InvocationState, Orchestrator, TransitionRequest } from '../interfaces/orchestrator.js'

/**
 * One status change that throws the typed error when the backend rejects it: `InvalidTransitionError`
 * (with from/to/allowed), `OwnershipError` or `InvocationNotFoundError`. Nothing is written on
 * rejection. Runner internals use the batch form and treat rejections as lost races instead.
 */
export async function transitionOrThrow(
  orchestrator: Orchestrator,
  request: TransitionRequest,
): Promise<InvocationState> {
  const [out] = await orchestrator.transition([request])
  if (!out) throw new InvocationNotFoundError(request.id)
  if (out.ok) return out.state
  switch (out.reason) {
    case 'not_found':
      throw new InvocationNotFoundError(request.id)
    case 'invalid_transition':
      throw new InvalidTransitionError(request.id, out.current.status, request.to, out.allowed)
    case 'ownership':
      throw new OwnershipError(
        request.id,
        out.current.status,
        request.to,
        out.current.owner,
        request.actor,
        out.detail,
      )
    case 'stale':
      throw new OwnershipError(
        request.id,
        out.current.status,
        request.to,
        out.current.owner,
        request.actor,
        `attempt ${out.attempt} is stale: the invocation is on attempt ${out.current.attempt}`,
      )
  }
}
