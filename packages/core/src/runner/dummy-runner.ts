import { RunnerError } from '../errors.js'
import { externalRunnerId } from '../ids.js'
import { BaseRunner } from './base-runner.js'

/**
 * The default runner of an app that only routes and waits (a client). It acts under
 * `external@<host>-<pid>` in histories and cannot be started.
 */
export class DummyRunner extends BaseRunner {
  static override readonly memCompatible = true

  constructor() {
    super(externalRunnerId())
  }

  get maxParallelSlots(): number {
    return 0
  }

  override async start(): Promise<void> {
    throw new RunnerError(
      'DummyRunner only routes and waits; it cannot run tasks. Pass a runner to new Nenc({ runner }) ' +
        '(e.g. new ThreadRunner() from @nenc/runners) or start one with `nenc runner start`.',
    )
  }

  protected async iteration(): Promise<boolean> {
    return false
  }
}
