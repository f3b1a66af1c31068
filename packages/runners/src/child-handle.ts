import { type ChildProcess, fork } from 'node:child_process'
import type { InvocationState } from '@nenc/core'
import {
  CHILD_SPEC_ENV,
  type ChildMessage,
  type ChildSpec,
  isChildMessage,
  type ParentMessage,
} from './child-protocol.js'
import { entryFile } from './entry-file.js'
import { isTypeScriptPath, resolveTsxLoader } from './tsx-loader.js'

/** What the parent knows about one invocation a child owns. */
export interface OwnedInvocation {
  id: string
  taskName?: string
  timeoutMs?: number
  retries?: number
  timer?: NodeJS.Timeout
  waiting: boolean
}

export interface ForkOptions {
  /** Extra Node flags for the child (e.g. `--max-old-space-size=4096`). */
  execArgv?: readonly string[]
  onMessage(child: ChildHandle, message: ChildMessage): void
  onExit(child: ChildHandle): void
}

/**
 * A forked child as its parent sees it: its runner id, the invocations it owns (from its
 * `claimed` / `started` / `ended` messages), which of them wait, and its exit. The parent uses
 * the owned set to kill-and-reroute (as the child's id, the owner) when the child dies.
 */
export class ChildHandle {
  readonly runnerId: string
  readonly spec: ChildSpec
  readonly process: ChildProcess
  readonly owned = new Map<string, OwnedInvocation>()
  readonly forkedAt = Date.now()
  /** Invocations the parent SIGKILLed the child for (their timeout ran out). */
  readonly timedOut = new Set<string>()
  ready = false
  exited = false
  /** The parent asked it to stop (its exit is expected). */
  stopRequested = false
  busy = 0
  lastBusyAt = Date.now()
  exitCode: number | null = null
  exitSignal: NodeJS.Signals | null = null
  fatal: string | null = null
  /** one-shot: the invocation the parent claimed for this child, sent once it is ready. */
  assigned: InvocationState | null = null
  readonly exitPromise: Promise<void>

  constructor(spec: ChildSpec, options: ForkOptions) {
    this.runnerId = spec.runnerId
    this.spec = spec
    const entry = entryFile('process-child')
    const execArgv = [...(options.execArgv ?? [])]
    if (entry.typescript || isTypeScriptPath(spec.appModule)) {
      execArgv.push('--import', resolveTsxLoader(spec.appModule))
    }
    this.process = fork(entry.path, [], {
      execArgv,
      env: { ...process.env, [CHILD_SPEC_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.process.on('message', (m) => {
      if (!isChildMessage(m) || this.exited) return
      this.apply(m)
      options.onMessage(this, m)
    })
    // A child that cannot be messaged any more (it died) must not crash the parent.
    this.process.on('error', () => {})
    this.exitPromise = new Promise<void>((resolve) => {
      this.process.once('exit', (code, signal) => {
        this.exited = true
        this.exitCode = code
        this.exitSignal = signal
        for (const o of this.owned.values()) if (o.timer) clearTimeout(o.timer)
        options.onExit(this)
        resolve()
      })
    })
  }

  get pid(): number | undefined {
    return this.process.pid
  }

  /** Owned invocations that execute and are not waiting for results. */
  get activeCount(): number {
    let n = 0
    for (const o of this.owned.values()) if (!o.waiting) n++
    return n
  }

  send(message: ParentMessage): void {
    if (this.exited || !this.process.connected) return
    this.process.send(message, (err) => {
      // The child died between the check and the send; its exit handler does the cleanup.
      if (err) return
    })
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.process.kill(signal)
  }

  private apply(m: ChildMessage): void {
    switch (m.type) {
      case 'ready':
        this.ready = true
        break
      case 'claimed':
        for (const id of m.ids) if (!this.owned.has(id)) this.owned.set(id, { id, waiting: false })
        break
      case 'started':
        for (const item of m.items) {
          const o = this.owned.get(item.id) ?? { id: item.id, waiting: false }
          Object.assign(o, { taskName: item.taskName, timeoutMs: item.timeoutMs, retries: item.retries })
          this.owned.set(item.id, o)
        }
        break
      case 'ended':
        for (const id of m.ids) {
          const o = this.owned.get(id)
          if (o?.timer) clearTimeout(o.timer)
          this.owned.delete(id)
        }
        break
      case 'waiting':
      case 'resumed': {
        const o = this.owned.get(m.id)
        if (o) o.waiting = m.type === 'waiting'
        break
      }
      case 'load':
        // Every change of load means it was busy until now (a change to 0 ends a busy spell).
        this.busy = m.busy
        this.lastBusyAt = Date.now()
        break
      case 'fatal':
        this.fatal = m.message
        break
    }
  }
}
