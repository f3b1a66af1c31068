import type { TriggerDefinition } from '@nenc/core'
import type { AnyBulkWriteOperation, Document } from 'mongodb'
import { corrupt, isStr } from '../documents.js'

/** All triggers of one task in one document (`<prefix>triggers`): replacing them is atomic. */
export interface TriggersDoc {
  _id: string
  triggers: TriggerDefinition[]
  /** ms epoch of the first definition: keeps tasks in definition order. */
  at: number
}

export function setTaskTriggersUpdate(
  taskId: string,
  triggers: readonly TriggerDefinition[],
  now: number,
): { filter: Document; update: Document } {
  return {
    filter: { _id: taskId },
    update: {
      $set: {
        triggers: triggers.map((t) => ({
          id: t.id,
          taskId: t.taskId,
          conditionIds: [...t.conditionIds],
          logic: t.logic,
          spec: t.spec,
        })),
      },
      $setOnInsert: { at: now },
    },
  }
}

/** Triggers referencing `conditionId` (all documents when omitted). */
export function triggersFilter(conditionId?: string): Document {
  return conditionId === undefined ? {} : { 'triggers.conditionIds': conditionId }
}

export function decodeTriggers(doc: Partial<TriggersDoc>, location: string): TriggerDefinition[] {
  if (!Array.isArray(doc.triggers)) throw corrupt(location, 'triggers is not an array')
  return doc.triggers.map((t, i) => {
    if (
      !t ||
      !isStr(t.id) ||
      !isStr(t.taskId) ||
      !Array.isArray(t.conditionIds) ||
      !t.conditionIds.every(isStr) ||
      (t.logic !== 'and' && t.logic !== 'or') ||
      !isStr(t.spec)
    ) {
      throw corrupt(location, `trigger ${i} is not {id, taskId, conditionIds, logic, spec}`)
    }
    return { id: t.id, taskId: t.taskId, conditionIds: [...t.conditionIds], logic: t.logic, spec: t.spec }
  })
}

/** A satisfied (condition, context) pair (`<prefix>valid_conditions`). */
export interface ValidConditionDoc {
  _id: string
  conditionId: string
  context: string
  at: number
}

/** Idempotent per pair id: an existing pair keeps its first values, like memory. */
export function validConditionUpserts(
  items: readonly { id: string; conditionId: string; context: string }[],
  now: number,
): AnyBulkWriteOperation<ValidConditionDoc>[] {
  return items.map((it) => ({
    updateOne: {
      filter: { _id: it.id },
      update: { $setOnInsert: { conditionId: it.conditionId, context: it.context, at: now } },
      upsert: true,
    },
  }))
}

export function decodeValidCondition(
  doc: Partial<ValidConditionDoc>,
  location: string,
): { id: string; conditionId: string; context: string } {
  if (!isStr(doc._id) || !isStr(doc.conditionId) || !isStr(doc.context)) {
    throw corrupt(location, 'not a valid condition {conditionId, context}')
  }
  return { id: doc._id, conditionId: doc.conditionId, context: doc.context }
}

/** Last cron execution of one condition (`<prefix>cron`). */
export interface CronDoc {
  _id: string
  last: number
}

/** The compare of the cron compare-and-set (an absent document is written with an insert instead). */
export function cronCasFilter(conditionId: string, expected: number): Document {
  return { _id: conditionId, last: expected }
}

/** A claimed trigger run (`<prefix>trigger_runs`); the TTL index removes it after `expiresAt`. */
export interface TriggerRunDoc {
  _id: string
  /** ms epoch until which the claim holds (the TTL monitor runs only once a minute). */
  until: number
  expiresAt: Date
}

/**
 * Set-if-absent with expiry as one upsert: it updates an expired claim, inserts a missing one,
 * and fails with a duplicate key when a live claim exists (the filter does not match it, so the
 * upsert tries to insert the same `_id`).
 */
export function triggerRunClaim(
  runId: string,
  now: number,
  ttlMs: number,
): { filter: Document; update: Document } {
  const until = now + ttlMs
  return {
    filter: { _id: runId, until: { $lte: now } },
    update: { $set: { until, expiresAt: new Date(until) } },
  }
}
