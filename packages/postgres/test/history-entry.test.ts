import { CorruptDataError } from '@nenc/core'
import { describe, expect, it } from 'vitest'
import { decodeHistory } from '../src/history-entry.js'

describe('decodeHistory (the history stored in an invocation row, newest line first)', () => {
  it('expands the codes: actor 2 = the owner before the change, owner 1 = the actor', () => {
    const stored = [
      '["success",1,40,2,null]',
      '["running",1,30,2,1]',
      '["pending",1,30,"r1",1]',
      '["registered",0,10,"caller",null]',
      '',
    ].join('\n')
    expect(decodeHistory(stored, 'x')).toEqual([
      { status: 'registered', attempt: 0, timestamp: 10, actor: 'caller', owner: null },
      { status: 'pending', attempt: 1, timestamp: 30, actor: 'r1', owner: 'r1' },
      { status: 'running', attempt: 1, timestamp: 30, actor: 'r1', owner: 'r1' },
      { status: 'success', attempt: 1, timestamp: 40, actor: 'r1', owner: null },
    ])
  })

  it('keeps ids that look like the codes when stored as strings', () => {
    expect(decodeHistory('["pending",1,5,"2","1"]\n', 'x')).toEqual([
      { status: 'pending', attempt: 1, timestamp: 5, actor: '2', owner: '1' },
    ])
  })

  it('an empty history is []; a bad line is CorruptDataError naming the invocation', () => {
    expect(decodeHistory('', 'x')).toEqual([])
    expect(() => decodeHistory('not json\n', 'inv-9')).toThrow(CorruptDataError)
    expect(() => decodeHistory('["nope",1,1,"w",1]\n', 'inv-9')).toThrow(/inv-9/)
    expect(() => decodeHistory('["running",1,1,7,1]\n', 'inv-9')).toThrow(CorruptDataError)
  })
})
