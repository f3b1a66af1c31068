import type { ConditionSpec } from './conditions.js'

/**
 * One condition in a line, as declared: what it watches. Shared by every listing of triggers
 * (`nenc trigger list`, the monitor's triggers page) so they describe a condition alike.
 */
export function describeCondition(s: ConditionSpec): string {
  switch (s.kind) {
    case 'cron':
      return `cron "${s.expr}" (${s.timezone})`
    case 'event': {
      const filter = s.equals
        ? ` where ${JSON.stringify(s.equals)}`
        : s.predicate
          ? ` filtered by ${s.predicate}`
          : ''
      return `event "${s.code}"${filter}`
    }
    case 'status':
      return `status of ${s.taskName} in [${s.statuses.join(', ')}]${s.predicate ? ` filtered by ${s.predicate}` : ''}`
    case 'result':
      return `result of ${s.taskName}${s.predicate ? ` filtered by ${s.predicate}` : ''}`
    case 'exception':
      return `exception of ${s.taskName}${s.errors.length ? ` in [${s.errors.join(', ')}]` : ' (any error)'}`
  }
}
