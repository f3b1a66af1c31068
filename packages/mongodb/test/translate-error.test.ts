import { BackendError, BackendUnavailableError, ConfigError, CorruptDataError, NencError } from '@nenc/core'
import {
  type MongoBulkWriteError,
  MongoError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoParseError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb'
import { describe, expect, it } from 'vitest'
import {
  duplicateKeyIndex,
  guard,
  isUnavailableError,
  translateError,
  UNAVAILABLE_SERVER_CODES,
  writeErrorsOf,
} from '../src/translate-error.js'

const serverError = (code: number, errmsg = `server said ${code}`) =>
  new MongoServerError({ ok: 0, code, errmsg, message: errmsg })

describe('translateError', () => {
  it('connection failures become BackendUnavailableError("mongodb") with the driver error as cause', () => {
    const unavailable: Error[] = [
      new MongoNetworkError('connection reset'),
      new MongoNetworkTimeoutError('socket timed out'),
      // The driver reads only `error` of the topology description it is given.
      new MongoServerSelectionError('no server', { error: null } as never),
      new MongoTopologyClosedError(),
      new MongoNotConnectedError('not connected'),
      new MongoServerClosedError(),
      serverError(10107, 'not writable primary'),
      serverError(91, 'shutdown in progress'),
    ]
    for (const err of unavailable) {
      const t = translateError(err, 'claiming invocations')
      expect(t, err.name).toBeInstanceOf(BackendUnavailableError)
      expect((t as BackendUnavailableError).backend).toBe('mongodb')
      expect((t as Error).cause).toBe(err)
      expect((t as Error).message).toContain('claiming invocations')
      expect((t as Error).message).toContain('mongodb backend unavailable')
    }
  })

  it('the client-closed error of driver 7 is matched by name', () => {
    class MongoClientClosedError extends MongoError {
      override get name() {
        return 'MongoClientClosedError'
      }
    }
    expect(isUnavailableError(new MongoClientClosedError('closed'))).toBe(true)
  })

  it('rejected operations and timeouts become BackendError with code and cause', () => {
    const rejected = serverError(2, 'bad $set')
    const t = translateError(rejected, 'changing invocation statuses') as BackendError
    expect(t).toBeInstanceOf(BackendError)
    expect(t.backend).toBe('mongodb')
    expect(t.cause).toBe(rejected)
    expect(t.message).toContain('changing invocation statuses failed (code 2)')
    expect(translateError(new MongoOperationTimeoutError('timed out'), 'x')).toBeInstanceOf(BackendError)
    expect(translateError(new MongoInvalidArgumentError('bad'), 'x')).toBeInstanceOf(BackendError)
    expect(translateError(serverError(11000, 'E11000 duplicate key'), 'x')).toBeInstanceOf(BackendError)
  })

  it('an unparsable connection string is a ConfigError naming `url`', () => {
    const t = translateError(new MongoParseError('Invalid scheme'), 'connecting') as ConfigError
    expect(t).toBeInstanceOf(ConfigError)
    expect(t.key).toBe('url')
  })

  it('nenc errors and non-driver errors pass through unchanged', () => {
    const corrupt = new CorruptDataError('mongodb', 'x/1', 'bad')
    expect(translateError(corrupt, 'x')).toBe(corrupt)
    const nenc = new NencError('CONFIG', 'x')
    expect(translateError(nenc, 'x')).toBe(nenc)
    const bug = new TypeError('undefined is not a function')
    expect(translateError(bug, 'x')).toBe(bug)
  })

  it('guard() rethrows translated and returns values untouched', async () => {
    await expect(guard('reading', async () => 7)).resolves.toBe(7)
    await expect(
      guard('reading', async () => {
        throw new MongoNetworkError('down')
      }),
    ).rejects.toBeInstanceOf(BackendUnavailableError)
  })

  it('lists the server codes that mean "no primary right now"', () => {
    for (const code of [6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]) {
      expect(UNAVAILABLE_SERVER_CODES.has(code)).toBe(true)
    }
    expect(isUnavailableError(serverError(11000))).toBe(false)
  })
})

describe('duplicate keys', () => {
  it('reads the index name from a duplicate-key message; other errors are not duplicates', () => {
    const msg =
      'E11000 duplicate key error collection: nenc.nenc_app_invocations index: nenc_running_key dup key: { activeKey: "k" }'
    expect(duplicateKeyIndex(serverError(11000, msg))).toBe('nenc_running_key')
    expect(duplicateKeyIndex({ code: 11000, errmsg: msg.replace('nenc_running_key', '_id_') })).toBe('_id_')
    expect(duplicateKeyIndex({ code: 11000, errmsg: 'E11000 something else' })).toBe('')
    expect(duplicateKeyIndex(serverError(2))).toBeNull()
  })

  it('normalises the write errors of a bulk error to an array', () => {
    expect(writeErrorsOf({ writeErrors: undefined } as unknown as MongoBulkWriteError)).toEqual([])
    const one = { code: 11000, index: 3 }
    expect(writeErrorsOf({ writeErrors: one } as unknown as MongoBulkWriteError)).toEqual([one])
    expect(writeErrorsOf({ writeErrors: [one, one] } as unknown as MongoBulkWriteError)).toHaveLength(2)
  })
})
