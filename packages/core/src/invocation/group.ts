import type { ResultOptions } from '../orchestration/result-waiter.js'
import { asInvocationWait, readOutcomes, waitFinal } from '../orchestration/waiting.js'
import type { NencRuntime } from '../runtime.js'
import type { Invocation } from './invocation.js'

/**
 * The invocations routed by one `parallelize` call. `results()` resolves in input order;
 * `for await (const r of group)` yields results in completion order. Either rejects with the
 * first failure it meets. `results({ timeoutMs })` gives up after that long with a
 * `ResultTimeoutError` naming the invocations still pending (they are untouched).
 */
export class InvocationGroup<R> implements AsyncIterable<R> {
  constructor(
    private readonly rt: NencRuntime | null,
    readonly invocations: readonly Invocation<R>[],
  ) {}

  get ids(): string[] {
    return this.invocations.map((i) => i.id)
  }

  get size(): number {
    return this.invocations.length
  }

  async results(options: ResultOptions = {}): Promise<R[]> {
    if (!this.rt) return Promise.all(this.invocations.map((i) => i.result(options)))
    const ids = this.ids
    await waitFinal(this.rt, ids, options)
    const settled = await readOutcomes(
      this.rt,
      ids,
      this.invocations.map((i) => i.taskName),
    )
    return settled.map((s) => {
      if (s.status === 'rejected') throw s.reason
      return s.value as R
    })
  }

  async *[Symbol.asyncIterator](): AsyncIterator<R> {
    const rt = this.rt
    if (!rt) {
      for (const inv of this.invocations) yield await inv.result()
      return
    }
    const names = new Map(this.invocations.map((i) => [i.id, i.taskName]))
    const remaining = new Set(this.ids)
    while (remaining.size > 0) {
      const ids = [...remaining]
      await asInvocationWait(rt, ids, (signal) => rt.waiter.waitAny(ids, signal))
      const done = ids.filter((id) => rt.waiter.isKnownFinal(id))
      for (const id of done) remaining.delete(id)
      const settled = await readOutcomes(
        rt,
        done,
        done.map((id) => names.get(id)!),
      )
      for (const s of settled) {
        if (s.status === 'rejected') throw s.reason
        yield s.value as R
      }
    }
  }
}
