import { CorruptDataError, type InvocationRecord } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { decodeRecord, type RecordDoc, recordUpserts } from '../src/queries/state.js'

const record: InvocationRecord = {
  id: 'i1',
  taskId: 'app.t',
  taskName: 't',
  callId: 'app.t:x',
  args: '[]',
  parentId: null,
  workflow: { id: 'i1', type: 'app.t', parentWorkflowId: null },
  createdAt: 1,
}

/** The document a record's upsert writes, as the server would store it. */
function stored(r: InvocationRecord): RecordDoc {
  const op = recordUpserts([r])[0] as { updateOne: { update: { $set: Omit<RecordDoc, '_id'> } } }
  return { _id: r.id, ...op.updateOne.update.$set }
}

describe('trace context in MongoDB record documents', () => {
  it('is written with the record and read back unchanged', () => {
    const traceContext = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }
    expect(decodeRecord(stored({ ...record, traceContext }), 'records/i1')).toEqual({
      ...record,
      traceContext,
    })
  })

  it('is null in the document and absent from the record when the call had none', () => {
    expect(stored(record).traceContext).toBeNull()
    expect(decodeRecord(stored(record), 'records/i1')).not.toHaveProperty('traceContext')
  })

  it('of the wrong shape makes the record CorruptDataError', () => {
    const doc = { ...stored(record), traceContext: { traceparent: 7 } } as unknown as RecordDoc
    expect(() => decodeRecord(doc, 'records/i1')).toThrow(CorruptDataError)
  })
})
