/**
 * A process-local wake-up for `wf.waitForEvent`: `app.emitEvent` rings it after the event is
 * stored, so a workflow waiting in the same process looks at once instead of at its next poll
 * (with the memory backend, every waiter is in the emitting process). Waiters in other
 * processes still find the event by polling the trigger store; a ring only says "look now".
 */
type Listener = () => void

const listeners = new Map<string, Set<Listener>>()

const keyOf = (appId: string, code: string): string => `${appId}\u0000${code}`

/** Rings every listener of (appId, code) in this process. */
export function ringEventEmitted(appId: string, code: string): void {
  for (const fn of listeners.get(keyOf(appId, code)) ?? []) fn()
}

/**
 * A doorbell for (appId, code): `wait(ms, signal)` resolves after `ms` or at the first ring since
 * the previous `wait` (a ring while nobody waits is kept, so none is lost between two looks), and
 * rejects with `onAbort()` when the signal aborts. `close()` unregisters it.
 */
export function eventDoorbell(
  appId: string,
  code: string,
): { wait(ms: number, signal: AbortSignal, onAbort: () => Error): Promise<void>; close(): void } {
  const key = keyOf(appId, code)
  let rung = false
  let wake: (() => void) | null = null
  const listener = () => {
    rung = true
    wake?.()
  }
  let set = listeners.get(key)
  if (!set) listeners.set(key, (set = new Set()))
  set.add(listener)
  return {
    wait(ms, signal, onAbort) {
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(onAbort())
        if (rung) {
          rung = false
          return resolve()
        }
        const done = () => {
          clearTimeout(timer)
          signal.removeEventListener('abort', aborted)
          wake = null
          rung = false
          resolve()
        }
        const aborted = () => {
          clearTimeout(timer)
          wake = null
          reject(onAbort())
        }
        const timer = setTimeout(done, ms)
        wake = done
        signal.addEventListener('abort', aborted, { once: true })
      })
    },
    close() {
      set.delete(listener)
      if (set.size === 0 && listeners.get(key) === set) listeners.delete(key)
    },
  }
}
