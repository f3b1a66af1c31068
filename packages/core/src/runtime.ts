import type { NencConfig } from './config/config.js'
import type { Backend } from './interfaces/backend.js'
import type { Logger } from './logger.js'
import type { LargeValueCache } from './orchestration/args.js'
import type { ResultWaiter } from './orchestration/result-waiter.js'
import type { BaseRunner } from './runner/base-runner.js'
import type { Serializer } from './serializer/serializer.js'
import type { AnyTask } from './task.js'
import type { TriggerEngine } from './triggers/engine.js'

/**
 * What the app shares with its handles, runners and orchestration helpers. `Nenc` implements it;
 * the narrow type keeps those modules free of the app class (and of import cycles).
 */
export interface NencRuntime {
  readonly appId: string
  readonly backend: Backend
  readonly serializer: Serializer
  readonly config: NencConfig
  readonly logger: Logger
  readonly waiter: ResultWaiter
  readonly largeValues: LargeValueCache
  readonly runner: BaseRunner
  /** The app's triggers; absent in runtimes that declare none. */
  readonly triggers?: TriggerEngine
  /** Binds every component to the app id (idempotent). */
  ready(): Promise<void>
  getTask(name: string): AnyTask | undefined
  taskNames(): string[]
}
