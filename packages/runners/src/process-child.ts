/**
 * Entry of every forked child of the process runners. It loads the app from its module path,
 * registers its runner context (naming the parent) and a heartbeat before running anything,
 * then runs one invocation (`one-shot`) or a claim loop (`loop`) under its own runner id. The
 * app's own configured runner is never started here. Children never outlive their parent: on
 * a lost IPC channel, SIGTERM or a `stop` message they stop claiming, let what runs finish within
 * `runner.stopGraceMs` (a waiting invocation is rerouted at once), kill-and-reroute the rest and
 * exit.
 */
import { hostname } from 'node:os'
import {
  InvocationExecutor,
  type InvocationState,
  KILLED,
  killAndReroute,
  type Nenc,
  rerouteUnstarted,
  type WaitHooks,
  withRecords,
} from '@nenc/core'
import { loadApp } from './app-module.js'
import { CHILD_SPEC_ENV, type ChildMessage, type ChildSpec, type ParentMessage } from './child-protocol.js'
import { KILL_JOIN_MS } from './slot-table.js'
import { startedItem, WorkerLoop } from './worker-loop.js'

const spec = JSON.parse(process.env[CHILD_SPEC_ENV] ?? 'null') as ChildSpec | null
if (!spec) {
  console.error('process-child is started by nenc process runners only.')
  process.exit(2)
}

const report = (m: ChildMessage): void => {
  if (process.connected) process.send?.(m)
}

let stopRequested: (() => void) | null = null
let stopFlag = false
const requestStop = (): void => {
  if (stopFlag) return
  stopFlag = true
  stopRequested?.()
}

// Ctrl-C reaches the whole process group: the parent decides when its children stop.
process.on('SIGINT', () => {})
process.on('SIGTERM', requestStop)
process.on('disconnect', requestStop)
process.on('message', (m: ParentMessage) => {
  if (m?.type === 'stop') requestStop()
  else if (m?.type === 'run') {
    runQueue.push(m.invocation)
    wakeRun?.()
  }
})

const runQueue: InvocationState[] = []
let wakeRun: (() => void) | null = null

async function register(app: Nenc): Promise<void> {
  await app.ready()
  await app.backend.stateBackend.storeRunnerContext({
    runnerId: spec!.runnerId,
    runnerClass: spec!.runnerClass,
    parentRunnerId: spec!.parentRunnerId,
    pid: process.pid,
    hostname: hostname(),
    startedAt: Date.now(),
  })
  await app.backend.orchestrator.heartbeat([spec!.runnerId], false)
}

/** Resolves with `value` after `ms` (a timer that never keeps the process alive). */
const delay = <T>(ms: number, value: T): Promise<T> =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms).unref())

/** ProcessRunner: exactly the invocation the parent claimed for this child's id. */
async function runOneShot(app: Nenc): Promise<void> {
  const invocation = await new Promise<InvocationState | null>((resolve) => {
    if (runQueue.length) return resolve(runQueue.shift()!)
    // Told to stop while it was still loading, with nothing to run.
    if (stopFlag) return resolve(null)
    wakeRun = () => resolve(runQueue.shift() ?? null)
    stopRequested = () => resolve(null)
  })
  if (!invocation) return
  // Waits may overlap (Promise.all over two results): report only the first start and last end.
  let waits = 0
  const hooks: WaitHooks = {
    waitingStart: (id) => {
      if (++waits === 1) report({ type: 'waiting', id })
    },
    waitingEnd: (id) => {
      if (waits === 0) return
      if (--waits === 0) report({ type: 'resumed', id })
    },
  }
  const executor = new InvocationExecutor(app, spec!.runnerId, hooks, () => stopFlag)
  let started: Awaited<ReturnType<InvocationExecutor['start']>>
  try {
    // The parent claimed it; the record is read here, where it runs.
    started = await executor.start(await withRecords(app.backend, [invocation]))
  } catch (err) {
    app.logger.error(
      { err, invocationId: invocation.id, attempt: invocation.attempt },
      'could not start the claimed invocation; rerouting it',
    )
    await rerouteUnstarted(app, [invocation.id], spec!.runnerId, () => invocation.attempt)
    report({ type: 'ended', ids: [invocation.id] })
    return
  }
  const inv = started[0]
  if (!inv) {
    report({ type: 'ended', ids: [invocation.id] })
    return
  }
  report({ type: 'started', items: [startedItem(app, inv)] })
  const abort = new AbortController()
  const stopped = new Promise<'stopped'>((resolve) => {
    stopRequested = () => resolve('stopped')
    if (stopFlag) resolve('stopped')
  })
  const done = executor.execute(inv, abort).then(() => 'done' as const)
  let outcome = await Promise.race([done, stopped])
  if (outcome === 'stopped' && waits === 0) {
    // Graceful: a running (not waiting) task gets `runner.stopGraceMs` to finish here.
    outcome = await Promise.race([
      done,
      delay(app.config.value<number>('runner.stopGraceMs'), 'stopped' as const),
    ])
  }
  if (outcome === 'stopped') {
    // Still the owner: KILLED → REROUTED before anything else, then stop waiting for the task.
    await killAndReroute(app, [invocation.id], spec!.runnerId, () => inv.state.attempt)
    abort.abort(KILLED)
    await Promise.race([done, delay(KILL_JOIN_MS, 'stopped' as const)])
  }
  await executor.finisher.drain()
  report({ type: 'ended', ids: [invocation.id] })
}

async function runLoop(app: Nenc): Promise<void> {
  const loop = new WorkerLoop({ app, runnerId: spec!.runnerId, slots: spec!.slots, report })
  const stopped = new Promise<void>((resolve) => {
    stopRequested = resolve
    if (stopFlag) resolve()
  })
  const beat = setInterval(
    () => void app.backend.orchestrator.heartbeat([spec!.runnerId], false).catch(() => {}),
    app.config.value<number>('runner.heartbeatIntervalMs'),
  )
  beat.unref()
  await loop.start()
  await stopped
  // Still beating during the grace period: the invocations finishing here are alive.
  await loop.stop(app.config.value<number>('runner.stopGraceMs'))
  clearInterval(beat)
}

async function main(): Promise<void> {
  let app: Nenc
  try {
    app = await loadApp(spec!.appModule)
    await register(app)
  } catch (err) {
    report({ type: 'fatal', message: (err as Error)?.message ?? String(err) })
    console.error(err)
    process.exit(1)
  }
  report({ type: 'ready' })
  if (spec!.kind === 'one-shot') await runOneShot(app)
  else await runLoop(app)
  // Components hold sockets; exit now rather than wait for every handle to close.
  await Promise.race([app.close().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())])
  process.exit(0)
}

void main().catch((err) => {
  console.error(err)
  process.exit(1)
})
