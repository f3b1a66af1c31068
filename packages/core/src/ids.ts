import { hash } from 'node:crypto'
import { hostname } from 'node:os'
import { v7 as uuidv7 } from 'uuid'

/** Time-ordered invocation ids (UUIDv7), so database indexes stay local. */
export const newInvocationId = (): string => uuidv7()

/** Runner ids: class name plus a time-ordered uuid, readable in histories. */
export const newRunnerId = (runnerClass: string): string => `${runnerClass}-${uuidv7()}`

/** The id callers that are not runners act under: `external@<host>-<pid>`. */
export const externalRunnerId = (): string => `external@${hostname()}-${process.pid}`

/** Hex SHA-256 of `text`. The one-shot `crypto.hash` (Node ≥ 20.12): no Hash object per call id. */
export function sha256(text: string): string {
  return hash('sha256', text, 'hex')
}

/** Task id = app id + task name (design §2). */
export const taskIdOf = (appId: string, taskName: string): string => `${appId}.${taskName}`

/** Call id = hash of task id and serialized arguments; argument-level concurrency keys on it. */
export const callIdOf = (taskId: string, serializedArgs: string): string =>
  `${taskId}:${sha256(serializedArgs)}`
