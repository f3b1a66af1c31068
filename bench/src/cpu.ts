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

/** CPU used so far by the worker children together (several runners count as one worker side). */
const workersCpuUs = async (workers: ChildHandle | readonly ChildHandle[]): Promise<number> => {
  const all = Array.isArray(workers) ? workers : [workers as ChildHandle]
  const used = await Promise.all(all.map((w) => w.cpuUs()))
  return used.reduce((a, b) => a + b, 0)
}

/** Takes a CPU mark just before a timed span (outside it: one IPC round trip per child). */
export async function cpuMark(workers: ChildHandle | readonly ChildHandle[]): Promise<CpuMark> {
  return { worker: await workersCpuUs(workers), caller: ownCpuUs() }
}

/**
 * CPU per item since `mark`, in µs: what the caller (routing, waiting) and the worker process
 * (running, storing results; all worker children together) each spent on one invocation or job. On a 2-vCPU machine shared
 * with the server, CPU per item is often the figure that explains a throughput ratio.
 */
export async function cpuPerItem(
  mark: CpuMark,
  workers: ChildHandle | readonly ChildHandle[],
  n: number,
): Promise<Record<string, number>> {
  const caller = ownCpuUs() - mark.caller
  const used = (await workersCpuUs(workers)) - mark.worker
  return { callerCpuUsPerInv: round(caller / n, 1), workerCpuUsPerInv: round(used / n, 1) }
}
