import { type InvocationStatus, STATUSES } from '@nenc/core'

/** Every status in core's order (filters, legends). */
export const STATUS_LIST: readonly InvocationStatus[] = STATUSES
