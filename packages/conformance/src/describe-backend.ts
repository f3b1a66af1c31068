import type { BackendFactory } from './harness.js'
import { describeBlockingControl } from './suites/blocking.suite.js'
import { describeBroker } from './suites/broker.suite.js'
import { describeClaims } from './suites/claim.suite.js'
import { describeEndToEnd } from './suites/end-to-end.suite.js'
import { describeRecovery } from './suites/recovery.suite.js'
import { describeStores } from './suites/state.suite.js'
import { describeStatusMachine } from './suites/status-machine.suite.js'

/**
 * Runs the whole behavioural suite against one backend: component contracts, the status machine
 * under concurrent callers, concurrency and blocking control, retries, large arguments and the
 * end-to-end lifecycle through ThreadRunner. Every test ends by checking that every
 * invocation's history is a valid path through the status machine.
 */
export function describeBackend(name: string, factory: BackendFactory): void {
  describeStatusMachine(name, factory)
  describeClaims(name, factory)
  describeBroker(name, factory)
  describeBlockingControl(name, factory)
  describeStores(name, factory)
  describeEndToEnd(name, factory)
  describeRecovery(name, factory)
}
