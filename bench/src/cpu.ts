import type { ChildHandle } from './child.js'
import { round } from './measure.js'

/** CPU used so far by the bench process (the caller / enqueuer) and by one worker child. */
export interface CpuMark {
  caller: number
  worker: number
}

export const ownCpuUs = (): number => {
  const { user, system } = process.cpuUsage()
  return user + system
}

/** Takes a CPU mark just before a timed span (outside it: one IPC round trip to the child). */
export async function cpuMark(worker: ChildHandle): Promise<CpuMark> {
  return { worker: await worker.cpuUs(), caller: ownCpuUs() }
}

/**
 * CPU per item since `mark`, in µs: what the caller (routing, waiting) and the worker process
 * (running, storing results) each spent on one invocation or job. On a 2-vCPU machine shared
 * with the server, CPU per item is often the figure that explains a throughput ratio.
 */
export async function cpuPerItem(
  mark: CpuMark,
  worker: ChildHandle,
  n: number,
): Promise<Record<string, number>> {
  const caller = ownCpuUs() - mark.caller
  const used = (await worker.cpuUs()) - mark.worker
  return { callerCpuUsPerInv: round(caller / n, 1), workerCpuUsPerInv: round(used / n, 1) }
}
