import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { withTimeout } from './measure.js'

/** A message between the bench and one of its children; `type` says what it is. */
export interface ChildMessage {
  type: string
  [key: string]: unknown
}

/**
 * A forked child process (runner or peer worker) and the message protocol with it: the parent
 * sends a message and awaits the next message of a given type. Messages that arrive before
 * anyone waits are kept, so no reply is lost to a race.
 */
export class ChildHandle {
  private readonly inbox: ChildMessage[] = []
  private readonly waiters: { type: string; resolve: (m: ChildMessage) => void }[] = []
  private readonly listeners = new Map<string, (m: ChildMessage) => void>()
  private exited: Error | null = null
  private failWaiters: ((err: Error) => void)[] = []

  constructor(private readonly proc: ChildProcess) {
    proc.on('message', (raw) => this.deliver(raw as ChildMessage))
    proc.on('exit', (code, signal) => {
      this.exited = new Error(`bench child ${this.proc.pid} exited (code ${code}, signal ${signal})`)
      for (const fail of this.failWaiters) fail(this.exited)
      this.failWaiters = []
    })
  }

  private deliver(m: ChildMessage): void {
    if (m.type === 'error') {
      const err = new Error(`bench child failed: ${String(m.message)}`)
      for (const fail of this.failWaiters) fail(err)
      this.failWaiters = []
      return
    }
    const listener = this.listeners.get(m.type)
    const i = this.waiters.findIndex((w) => w.type === m.type)
    if (listener) listener(m)
    else if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m)
    else this.inbox.push(m)
  }

  /** Every message of `type` goes to `fn` instead of the inbox (per-job notifications). */
  on(type: string, fn: (m: ChildMessage) => void): void {
    this.listeners.set(type, fn)
  }

  send(message: ChildMessage): void {
    this.proc.send(message)
  }

  /** The next message of `type`; rejects if the child exits or reports an error first. */
  next(type: string, timeoutMs = 120_000): Promise<ChildMessage> {
    const i = this.inbox.findIndex((m) => m.type === type)
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!)
    if (this.exited) return Promise.reject(this.exited)
    const p = new Promise<ChildMessage>((resolve, reject) => {
      this.waiters.push({ type, resolve })
      this.failWaiters.push(reject)
    })
    return withTimeout(p, timeoutMs, `waiting for "${type}" from bench child ${this.proc.pid}`)
  }

  /** Sends `message` and awaits the reply of type `reply`. */
  async request(message: ChildMessage, reply: string, timeoutMs?: number): Promise<ChildMessage> {
    this.send(message)
    return this.next(reply, timeoutMs)
  }

  /** CPU time (user + system, µs) the child has used so far. */
  async cpuUs(): Promise<number> {
    return (await this.request({ type: 'cpu' }, 'cpu', 10_000)).us as number
  }

  /** Asks the child to stop cleanly (it closes its connections), killing it after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()))
    try {
      this.send({ type: 'stop' })
      await withTimeout(gone, graceMs, 'bench child stop')
    } catch {
      this.kill()
    }
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL')
  }
}

/**
 * Forks `children/<name>.ts` through the tsx loader (with `env` added to the environment), sends
 * it `config`, and resolves once it reports `ready` (runner started / worker listening).
 */
export async function forkChild(
  name: string,
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<ChildHandle> {
  const entry = fileURLToPath(new URL(`./children/${name}.ts`, import.meta.url))
  const proc = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const child = new ChildHandle(proc)
  try {
    await child.request({ type: 'start', config }, 'ready', 60_000)
  } catch (err) {
    child.kill()
    throw err
  }
  return child
}
