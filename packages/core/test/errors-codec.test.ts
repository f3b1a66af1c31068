import { describe, expect, it } from 'vitest'
import { TaskError } from '../src/errors.js'
import { decodeError, describeError, encodeError } from '../src/orchestration/errors-codec.js'

describe('describeError', () => {
  it('keeps name, message, code and the cause chain of a thrown error', () => {
    const err = Object.assign(new Error('outer', { cause: new TypeError('inner') }), { code: 'E_OUT' })
    const info = describeError(err)
    expect(info).toMatchObject({
      name: 'Error',
      message: 'outer',
      code: 'E_OUT',
      cause: { name: 'TypeError', message: 'inner' },
    })
    expect(info.from).toBeUndefined()
  })

  it("stores another invocation's failure as that error, naming the invocation it came from", () => {
    const child = new TaskError('child-1', 'fetch', { name: 'TypeError', message: 'boom' })
    expect(describeError(child)).toEqual({
      name: 'TypeError',
      message: 'boom',
      from: { invocationId: 'child-1', taskName: 'fetch' },
    })
  })

  it('names the nearest invocation when a failure travels up two levels', () => {
    // The grandchild's error as the child stored it, then re-raised by the parent awaiting the child.
    const inChild = describeError(
      new TaskError('grandchild', 'leaf', { name: 'RangeError', message: 'deep' }),
    )
    const inParent = decodeError(encodeError(new TaskError('child', 'middle', inChild)))
    expect(inParent.from).toEqual({ invocationId: 'child', taskName: 'middle' })
    expect(inParent).toMatchObject({ name: 'RangeError', message: 'deep' })
  })
})
