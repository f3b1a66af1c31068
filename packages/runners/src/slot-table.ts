import { KILLED, LazyAbortController } from '@nenc/core'

/** A slot's `done` until its run is chained: one shared resolved promise, not one per slot. */
const SETTLED: Promise<void> = Promise.resolve()

/** After the grace period, how long a stop awaits killed slots whose code ignores its signal. */
export const KILL_JOIN_MS = 2000

interface Slot {
  abort: LazyAbortController
  /** Outstanding waits (a task may await several invocations at once); waiting while > 0. */
  waits: number
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

  /**
   * Counts one more outstanding wait of a running invocation (`Promise.all` over two results,
   * nested waits and group iteration overlap their waits). True only when the slot starts
   * waiting (0 → 1); false when it is unknown or was already waiting.
   */
  markWaiting(id: string): boolean {
    const slot = this.slots.get(id)
    if (!slot) return false
    slot.waits++
    if (slot.waits !== 1) return false
    this.waitingCount++
    return true
  }

  /**
   * Ends one outstanding wait. True only when the slot stops waiting (1 → 0) and counts as busy
   * again; false when it was not waiting or still has other waits outstanding.
   */
  markResumed(id: string): boolean {
    const slot = this.slots.get(id)
    if (!slot || slot.waits === 0) return false
    slot.waits--
    if (slot.waits !== 0) return false
    this.waitingCount--
    return true
  }

  /** Whether the invocation is running here and waiting for results. */
  isWaiting(id: string): boolean {
    return (this.slots.get(id)?.waits ?? 0) > 0
  }

  /** Starts `run` in a new slot; `onSettled` hears whether the slot ended killed. */
  launch(
    id: string,
    run: (abort: LazyAbortController) => Promise<void>,
    onSettled: (killed: boolean) => void,
  ): void {
    const slot: Slot = {
      abort: new LazyAbortController(),
      waits: 0,
      settled: false,
      done: SETTLED,
    }
    this.slots.set(id, slot)
    const settle = () => {
      slot.settled = true
      if (slot.waits > 0) this.waitingCount--
      this.slots.delete(id)
      onSettled(slot.abort.isAborted && slot.abort.abortReason === KILLED)
    }
    // `.finally(settle)` as one `then`: `finally` costs three more promises per slot (its
    // callback's result is awaited through a promise of its own). Same outcome: a rejection still
    // rejects `done` after the slot is settled.
    slot.done = run(slot.abort).then(settle, (err: unknown) => {
      settle()
      throw err
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

  /**
   * Stops what runs here, the graceful way (claiming has stopped already). Slots waiting for
   * results are killed and rerouted at once: their children may need this very runner's slots.
   * The others get up to `graceMs` to finish on their own (their outcomes are written normally);
   * only what still runs then is rerouted (while this runner still owns it), aborted and awaited
   * up to {@link KILL_JOIN_MS} for code that ignores its signal. `reroute` reports its own errors.
   */
  async stopGracefully(graceMs: number, reroute: (ids: string[]) => Promise<void>): Promise<void> {
    const waiting = this.liveIds().filter((id) => this.isWaiting(id))
    if (waiting.length) {
      await reroute(waiting)
      this.kill(waiting)
    }
    await this.settled(graceMs)
    const left = this.liveIds()
    if (left.length) {
      await reroute(left)
      this.kill(left)
    }
    await this.settled(KILL_JOIN_MS)
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
