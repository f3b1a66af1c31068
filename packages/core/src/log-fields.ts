/**
 * The fields every log line about one invocation carries, under the same names everywhere, so a
 * log search for one invocation (or one attempt of it) finds all of its lines: `attempt` is the
 * claim attempt (history's `#n`, what fencing compares), `retries` the retries used so far
 * (`context().attempt`).
 */
export function invocationLogFields(
  invocationId: string,
  task: string,
  attempt: number,
  retries: number,
): { invocationId: string; task: string; attempt: number; retries: number } {
  return { invocationId, task, attempt, retries }
}
