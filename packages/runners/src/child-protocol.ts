import type { InvocationState } from '@nenc/core'

/** Environment variable carrying the {@link ChildSpec} to a forked child. */
export const CHILD_SPEC_ENV = 'NENC_RUNNER_CHILD_SPEC'

/**
 * What a forked child is told to be. Every child loads the app from `appModule`, registers its
 * runner context (naming `parentRunnerId`) and a heartbeat before anything else, then either
 * runs exactly one invocation (`one-shot`, ProcessRunner) or pulls invocations with `slots`
 * concurrent slots until told to stop (`loop`, PersistentProcessRunner and MultiThreadRunner).
 */
export interface ChildSpec {
  kind: 'one-shot' | 'loop'
  runnerId: string
  runnerClass: string
  parentRunnerId: string
  appModule: string
  /** `loop`: invocations run at once, waiting ones not counted. */
  slots: number
}

/** One invocation a child moved to RUNNING, with what the parent needs to enforce its timeout. */
export interface StartedItem {
  id: string
  taskName: string
  /** 0 = no timeout. */
  timeoutMs: number
  retries: number
}

/** Parent → child. */
export type ParentMessage =
  /** one-shot: run this claimed (PENDING, owned by the child's id) invocation, then exit. */
  | { type: 'run'; invocation: InvocationState }
  /** Stop: kill-and-reroute what still runs (as its owner), then exit. */
  | { type: 'stop' }

/** Child → parent. */
export type ChildMessage =
  /** App loaded, runner context and heartbeat stored. */
  | { type: 'ready' }
  /** The child now owns these PENDING invocations (loop children, right after a claim round). */
  | { type: 'claimed'; ids: string[] }
  | { type: 'started'; items: StartedItem[] }
  /** These invocations ended (outcome written, or rerouted): the child no longer owns them. */
  | { type: 'ended'; ids: string[] }
  /** The invocation awaits results: it does not occupy its slot until `resumed`. */
  | { type: 'waiting'; id: string }
  | { type: 'resumed'; id: string }
  /** Executing slots (not waiting), for scaling. */
  | { type: 'load'; busy: number }
  /** The child cannot work (app failed to load, backend unreachable); it exits next. */
  | { type: 'fatal'; message: string }

export const isChildMessage = (m: unknown): m is ChildMessage =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string'
