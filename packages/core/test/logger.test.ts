import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../src/errors.js'
import { createLogger, logFormat } from '../src/logger.js'

function capture(): { stream: Writable; text: () => string } {
  let text = ''
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk)
      done()
    },
  })
  return { stream, text: () => text }
}

describe('logFormat', () => {
  it('is pretty on a terminal and JSON otherwise, unless NENC_LOG_FORMAT says', () => {
    expect(logFormat(true, {})).toBe('pretty')
    expect(logFormat(false, {})).toBe('json')
    expect(logFormat(true, { NENC_LOG_FORMAT: 'json' })).toBe('json')
    expect(logFormat(false, { NENC_LOG_FORMAT: 'pretty' })).toBe('pretty')
  })

  it('refuses an unknown format with a ConfigError naming the variable', () => {
    expect(() => logFormat(false, { NENC_LOG_FORMAT: 'xml' })).toThrow(ConfigError)
    expect(() => logFormat(false, { NENC_LOG_FORMAT: 'xml' })).toThrow(
      /NENC_LOG_FORMAT.*"json" or "pretty", got "xml"/,
    )
  })
})

describe('createLogger', () => {
  // The test setup silences the default logger; these tests read what it writes.
  let level: string | undefined
  beforeEach(() => {
    level = process.env.NENC_LOG_LEVEL
    process.env.NENC_LOG_LEVEL = 'info'
  })
  afterEach(() => {
    if (level === undefined) delete process.env.NENC_LOG_LEVEL
    else process.env.NENC_LOG_LEVEL = level
  })

  it('writes one JSON object per line in JSON format, child bindings included', async () => {
    const out = capture()
    createLogger('shop', { format: 'json', destination: out.stream })
      .child({ invocationId: 'inv-1' })
      .error({ step: 2 }, 'went wrong')
    await new Promise((r) => setImmediate(r))
    const line = JSON.parse(out.text().trim())
    expect(line).toMatchObject({
      level: 50,
      name: 'nenc:shop',
      invocationId: 'inv-1',
      step: 2,
      msg: 'went wrong',
    })
  })

  it('writes human-readable lines through pino-pretty in pretty format', async () => {
    const out = capture()
    createLogger('shop', { format: 'pretty', destination: out.stream })
      .child({ invocationId: 'inv-1' })
      .error({ step: 2 }, 'went wrong')
    await new Promise((r) => setImmediate(r))
    const text = out.text()
    expect(() => JSON.parse(text)).toThrow()
    expect(text).toContain('ERROR')
    expect(text).toContain('went wrong')
    expect(text).toMatch(/invocationId: "inv-1"/)
  })
})
