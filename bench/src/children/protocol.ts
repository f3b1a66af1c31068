/**
 * The child side of the bench's message protocol (see ../child.ts): the parent sends `start`
 * with a config and awaits `ready`; `stop` closes everything and exits. Failures are reported
 * as an `error` message so the parent fails fast instead of timing out.
 */
export interface ParentMessage {
  type: string
  [key: string]: unknown
}

export function sendToParent(message: ParentMessage): void {
  process.send?.(message)
}

export function reportError(err: unknown): void {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  process.stderr.write(`[bench child ${process.pid}] ${message}\n`)
  sendToParent({ type: 'error', message })
}

/**
 * Runs the child: `start(config)` resolves with a `stop` function once the worker is ready;
 * `onMessage` receives every other message.
 */
export function serveParent<C>(
  start: (config: C) => Promise<() => Promise<void>>,
  onMessage: (m: ParentMessage) => void = () => {},
): void {
  let stop: (() => Promise<void>) | null = null
  process.on('message', async (raw) => {
    const m = raw as ParentMessage
    try {
      if (m.type === 'start') {
        stop = await start(m.config as C)
        sendToParent({ type: 'ready' })
      } else if (m.type === 'cpu') {
        const { user, system } = process.cpuUsage()
        sendToParent({ type: 'cpu', us: user + system })
      } else if (m.type === 'stop') {
        await stop?.()
        process.exit(0)
      } else onMessage(m)
    } catch (err) {
      reportError(err)
      if (m.type === 'stop') process.exit(1)
    }
  })
  // The parent died: nothing is left to report to.
  process.on('disconnect', () => process.exit(0))
}
