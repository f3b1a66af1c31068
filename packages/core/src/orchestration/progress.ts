import { SerializationError } from '../errors.js'
import type { Unsubscribe } from '../interfaces/component.js'
import type { ProgressRecord } from '../interfaces/state-backend.js'
import type { NencRuntime } from '../runtime.js'

/**
 * The largest serialized progress value (characters). Progress travels in push notifications
 * (PostgreSQL's NOTIFY payload stops at 8,000 bytes) and is rewritten often: a value larger than
 * this is refused with a SerializationError at the `progress()` call that made it.
 */
export const MAX_PROGRESS_CHARS = 4096

/** What `invocation.progress()` returns: the last value an attempt reported. */
export interface InvocationProgress<P = unknown> {
  value: P
  /** The attempt that reported it (a retry or a recovered run reports under a new one). */
  attempt: number
  /** ms epoch of the report. */
  updatedAt: number
}

/**
 * Stores one running attempt's progress reports, throttled: the first report is written at once,
 * later ones at most every `runner.progressThrottleMs` (only the latest value of a window is
 * written), and `flush()` — called by the executor before the attempt's outcome is stored —
 * writes the last one, so a finished invocation shows the final progress it reported. A failed
 * write is logged, never thrown into the task: progress is information, not part of the result.
 */
export class ProgressReporter {
  private pending: ProgressRecord | null = null
  private inFlight: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private lastWriteAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly rt: NencRuntime,
    private readonly id: string,
    private readonly attempt: number,
    private readonly taskName: string,
  ) {}

  /** Serializes `value` now (so a bad value throws at the caller) and schedules its write. */
  report(value: unknown): void {
    const text = this.rt.serializer.serialize(value, `the progress of ${this.taskName}`)
    if (text.length > MAX_PROGRESS_CHARS)
      throw new SerializationError(
        `the progress of ${this.taskName}`,
        `it is ${text.length} characters serialized; progress may be at most ${MAX_PROGRESS_CHARS} (store large data in the result)`,
      )
    this.pending = { id: this.id, attempt: this.attempt, value: text, updatedAt: Date.now() }
    this.schedule()
  }

  /** Writes the latest unwritten report and waits for every write to settle. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    while (this.inFlight || this.pending) {
      if (this.inFlight) await this.inFlight
      else this.write()
    }
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return // the write in flight or the timer picks it up
    const throttle = this.rt.config.value<number>('runner.progressThrottleMs')
    const wait = this.lastWriteAt + throttle - Date.now()
    if (wait <= 0) this.write()
    else
      this.timer = setTimeout(() => {
        this.timer = null
        this.write()
      }, wait)
  }

  private write(): void {
    const record = this.pending
    if (!record) return
    this.pending = null
    this.lastWriteAt = Date.now()
    this.inFlight = this.rt.backend.stateBackend
      .setProgress([record])
      .catch((err: unknown) => {
        this.rt.logger.warn({ err, invocationId: this.id, attempt: this.attempt }, 'storing progress failed')
      })
      .finally(() => {
        this.inFlight = null
        if (this.pending) this.schedule()
      })
  }
}

/** Decodes a stored progress record for a handle; a value that does not parse is returned as text. */
export function decodeProgress(rt: NencRuntime, record: ProgressRecord): InvocationProgress {
  let value: unknown
  try {
    value = rt.serializer.deserialize(record.value)
  } catch {
    value = record.value
  }
  return { value, attempt: record.attempt, updatedAt: record.updatedAt }
}

/**
 * Calls `listener` with each new progress of invocation `id`: pushed by the state backend when it
 * can (`subscribeProgress`), else re-read every `orchestrator.progressPollMs`. The current progress
 * is delivered first when there is one; a report is delivered once, in order of `updatedAt`.
 */
export async function watchProgress(
  rt: NencRuntime,
  id: string,
  listener: (p: InvocationProgress) => void,
): Promise<Unsubscribe> {
  await rt.ready()
  const state = rt.backend.stateBackend
  let last = { attempt: -1, updatedAt: -1 }
  const deliver = (r: ProgressRecord | null | undefined) => {
    if (!r || r.id !== id) return
    if (r.attempt < last.attempt || (r.attempt === last.attempt && r.updatedAt <= last.updatedAt)) return
    last = { attempt: r.attempt, updatedAt: r.updatedAt }
    listener(decodeProgress(rt, r))
  }
  if (state.subscribeProgress) {
    const stop = await state.subscribeProgress((records) => {
      for (const r of records) deliver(r)
    })
    // Read after subscribing: a report stored in between is either pushed or read here.
    deliver((await state.getProgress([id]))[0])
    return stop
  }
  let stopped = false
  const poll = async () => {
    if (stopped) return
    try {
      deliver((await state.getProgress([id]))[0])
    } catch (err) {
      rt.logger.warn({ err, invocationId: id }, 'reading progress failed; retrying')
    }
    if (!stopped) timer = setTimeout(poll, rt.config.value<number>('orchestrator.progressPollMs'))
  }
  let timer: NodeJS.Timeout | undefined
  await poll()
  return () => {
    stopped = true
    if (timer) clearTimeout(timer)
  }
}
