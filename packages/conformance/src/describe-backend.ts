import type { BackendFactory } from './harness.js'
import { describeBlockingControl } from './suites/blocking.suite.js'
import { describeBroker } from './suites/broker.suite.js'
import { describeClaims } from './suites/claim.suite.js'
import { describeEmptyBatches } from './suites/empty-batches.suite.js'
import { describeEndToEnd } from './suites/end-to-end.suite.js'
import { describeFencing } from './suites/fencing.suite.js'
import { describeDeletion, describeListing } from './suites/listing.suite.js'
import { describeProgress } from './suites/progress.suite.js'
import { describeRecovery } from './suites/recovery.suite.js'
import { describeReplay } from './suites/replay.suite.js'
import { describeRetention } from './suites/retention.suite.js'
import { describeSchedule } from './suites/schedule.suite.js'
import { describeStores } from './suites/state.suite.js'
import { describeStatusMachine } from './suites/status-machine.suite.js'
import { describeTraceContext } from './suites/trace-context.suite.js'
import { describeTriggers } from './suites/triggers.suite.js'
import { describeWorkflows } from './suites/workflow.suite.js'
import { describeWorkflowEvents } from './suites/workflow-events.suite.js'

/**
 * Runs the whole behavioural suite against one backend: component contracts, the status machine
 * under concurrent callers, attempts and fencing, concurrency and blocking control, retries,
 * large arguments, triggers and the end-to-end lifecycle through ThreadRunner. Every test ends by checking
 * that every invocation's history is a valid path through the status machine.
 *
 * A factory whose backends provide fused steps (`Backend.steps`) is run twice: through them
 * (`name (fused steps)`) and with them removed (`name (composed)`), so the composed path a
 * mixed backend takes is run by the backend's own tests too.
 */
export function describeBackend(name: string, factory: BackendFactory): void {
  if (!factory.fusedSteps) {
    describeAll(name, factory)
    return
  }
  describeAll(`${name} (fused steps)`, {
    ...factory,
    async create(appId) {
      const backend = await factory.create(appId)
      if (!backend.steps) throw new Error(`${name}: the factory says fusedSteps but its backend has no steps`)
      return backend
    },
  })
  describeAll(`${name} (composed)`, withoutSteps(factory))
}

/** The same factory with the fused steps removed: core composes the five components. */
export function withoutSteps(factory: BackendFactory): BackendFactory {
  return {
    create: async (appId) => {
      const { steps: _fused, ...components } = await factory.create(appId)
      return components
    },
    destroy: factory.destroy,
  }
}

function describeAll(name: string, factory: BackendFactory): void {
  describeStatusMachine(name, factory)
  describeFencing(name, factory)
  describeClaims(name, factory)
  describeBroker(name, factory)
  describeBlockingControl(name, factory)
  describeStores(name, factory)
  describeEmptyBatches(name, factory)
  describeProgress(name, factory)
  describeEndToEnd(name, factory)
  describeRecovery(name, factory)
  describeReplay(name, factory)
  describeListing(name, factory)
  describeDeletion(name, factory)
  describeRetention(name, factory)
  describeSchedule(name, factory)
  describeWorkflows(name, factory)
  describeWorkflowEvents(name, factory)
  describeTriggers(name, factory)
  describeTraceContext(name, factory)
}
