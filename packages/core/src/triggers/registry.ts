import type { ConditionSpec } from './conditions.js'
import { type CronSchedule, cronSchedule } from './cron.js'
import type { ResolvedCondition, ResolvedTrigger } from './declare.js'

type Spec<K extends ConditionSpec['kind']> = Extract<ConditionSpec, { kind: K }>

/** A cron condition with its parsed schedule and the widest catch-up window of its triggers. */
export interface CronEntry {
  id: string
  spec: Spec<'cron'>
  schedule: CronSchedule
  catchUpWithinMs: number
}

/**
 * The app's declared triggers indexed the ways evaluation reads them: by condition, by watched
 * task, by event code. Everything here is local, so a process that finishes an invocation of an
 * unwatched task (or any task of an app without triggers) makes no trigger round trip at all.
 */
export class TriggerRegistry {
  readonly triggers: ResolvedTrigger[] = []
  readonly byCondition = new Map<string, ResolvedTrigger[]>()
  private readonly byTask = new Map<string, ResolvedCondition[]>()
  private readonly byEvent = new Map<string, ResolvedCondition[]>()
  private readonly crons = new Map<string, CronEntry>()

  add(triggers: readonly ResolvedTrigger[]): void {
    for (const t of triggers) {
      this.triggers.push(t)
      for (const c of t.conditions) {
        const list = this.byCondition.get(c.id) ?? []
        if (!list.includes(t)) list.push(t)
        this.byCondition.set(c.id, list)
        const s = c.spec
        if (s.kind === 'cron') {
          const window = t.missed === 'skip' ? 0 : t.missed.catchUpWithinMs
          const known = this.crons.get(c.id)
          if (known) known.catchUpWithinMs = Math.max(known.catchUpWithinMs, window)
          else
            this.crons.set(c.id, {
              id: c.id,
              spec: s,
              schedule: cronSchedule(s.expr, s.timezone),
              catchUpWithinMs: window,
            })
        } else if (s.kind === 'event') addOnce(this.byEvent, s.code, c)
        else addOnce(this.byTask, s.taskName, c)
      }
    }
  }

  get isEmpty(): boolean {
    return this.triggers.length === 0
  }

  /** Conditions that watch `taskName` (status, result, exception). */
  watching(taskName: string): readonly ResolvedCondition[] {
    return this.byTask.get(taskName) ?? NONE
  }

  watches(taskName: string): boolean {
    return this.byTask.has(taskName)
  }

  onEvent(code: string): readonly ResolvedCondition[] {
    return this.byEvent.get(code) ?? NONE
  }

  cronConditions(): CronEntry[] {
    return [...this.crons.values()]
  }

  /** The triggers of one task (for the store and listings). */
  ofTask(taskName: string): ResolvedTrigger[] {
    return this.triggers.filter((t) => t.taskName === taskName)
  }
}

const NONE: readonly ResolvedCondition[] = Object.freeze([])

function addOnce(map: Map<string, ResolvedCondition[]>, key: string, c: ResolvedCondition): void {
  const list = map.get(key) ?? []
  if (!list.some((x) => x.id === c.id)) list.push(c)
  map.set(key, list)
}
