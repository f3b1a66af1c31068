export { rejectionOutcome } from './rejection.js'
export { WaitsTracker } from './waits-tracker.js'
