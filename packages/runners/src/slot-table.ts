import { KILLED, LazyAbortController } from '@nenc/core'

interface Slot {
  abort: LazyAbortController
  waiting: boolean
  settled: boolean
  done: Promise<void>
}

/**
 * The in-process slots of a claim loop (ThreadRunner, and WorkerLoop in supervised children):
 * which invocations run here, which of them wait for results (and so occupy no slot), and how a
 * stop kills what still runs. One place, so both loops count slots and stop the same way.
 */
export class SlotTable {
  private readonly slots = new Map<string, Slot>()
  private waitingCount = 0

  /** Slots executing and not waiting for results. */
  get busy(): number {
    return this.slots.size - this.waitingCount
  }

  /** Ids running here, waiting ones included. */
  get ids(): string[] {
    return [...this.slots.keys()]
  }

  /**
   * Slots a claim round may fill. A slot is freed when its function returns and its outcome is
   * written in the background; at most one table's worth of such writes may be outstanding
   * before claims slow down with them.
   */
  free(max: number, pendingWrites: number): number {
    return max - this.busy - Math.max(0, pendingWrites - max)
  }

  /** Marks a running invocation as waiting; false when it is unknown or already waiting. */
  markWaiting(id: string): boolean {
    const slot = this.slots.get(id)
    if (!slot || slot.waiting) return false
    slot.waiting = true
    this.waitingCount++
    return true
  }

  /** Marks a waiting invocation as running again; false when it was not waiting. */
  markResumed(id: string): boolean {
    const slot = this.slots.get(id)
    if (!slot?.waiting) return false
    slot.waiting = false
    this.waitingCount--
    return true
  }

  /** Starts `run` in a new slot; `onSettled` hears whether the slot ended killed. */
  launch(
    id: string,
    run: (abort: LazyAbortController) => Promise<void>,
    onSettled: (killed: boolean) => void,
  ): void {
    const slot: Slot = {
      abort: new LazyAbortController(),
      waiting: false,
      settled: false,
      done: Promise.resolve(),
    }
    this.slots.set(id, slot)
    slot.done = run(slot.abort).finally(() => {
      slot.settled = true
      if (slot.waiting) this.waitingCount--
      this.slots.delete(id)
      onSettled(slot.abort.isAborted && slot.abort.abortReason === KILLED)
    })
  }

  /** Ids whose function has not returned yet. */
  liveIds(): string[] {
    return [...this.slots.entries()].filter(([, s]) => !s.settled).map(([id]) => id)
  }

  /** Aborts the given slots with reason KILLED (their outcome, if any, is dropped). */
  kill(ids: readonly string[]): void {
    for (const id of ids) this.slots.get(id)?.abort.abort(KILLED)
  }

  /** Resolves when every slot has settled, or after `graceMs` for code that ignores its signal. */
  async settled(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all([...this.slots.values()].map((s) => s.done)),
      new Promise<void>((r) => {
        timer = setTimeout(r, graceMs)
        timer.unref()
      }),
    ])
    if (timer) clearTimeout(timer)
  }
}
