export { AppBinding } from './app-binding.js'
export { CoalescingNotifier } from './notifier.js'
export { rejectionOutcome } from './rejection.js'
export { WaitsTracker } from './waits-tracker.js'
