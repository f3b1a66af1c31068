export { AppBinding } from './app-binding.js'
export { readFinalNotification } from './final-notification.js'
export type { KeysetPosition } from './keyset.js'
export {
  checkFilter,
  checkRecordQuery,
  DEFAULT_PAGE_LIMIT,
  decodeCursor,
  encodeCursor,
  isAfter,
  MAX_PAGE_LIMIT,
  newestFirst,
  pageOfPositions,
  pageRequest,
} from './keyset.js'
export { latestProgress } from './latest-progress.js'
export { CoalescingNotifier } from './notifier.js'
export { rejectionOutcome } from './rejection.js'
export { WaitsTracker } from './waits-tracker.js'
