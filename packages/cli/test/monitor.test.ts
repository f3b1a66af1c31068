import { fork } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { BIN, fixture, nenc } from './helpers.js'

/** `nenc monitor` as a real process over the Redis fixture app. */
function startMonitorProcess(args: string[], env: Record<string, string>) {
  const proc = fork(BIN, ['monitor', '--app', fixture('redis-app.mjs'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const ready = new Promise<{ url: string }>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as { url: string }))
    proc.once('exit', (code) => reject(new Error(`nenc monitor exited early (${code}): ${stderr}`)))
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return { proc, ready, exited, stderr: () => stderr }
}

describe('nenc monitor', () => {
  const env = { NENC_TEST_APP_ID: `cli-mon-${Date.now().toString(36)}` }

  it('serves the monitor on loopback until SIGTERM; --read-only hides the actions', async () => {
    const m = startMonitorProcess(['--port', '0', '--read-only'], env)
    const { url } = await m.ready
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${url}/invocations`)
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).toContain(env.NENC_TEST_APP_ID)
    expect(page).toContain('read-only')
    expect(page).not.toContain('<form class="action"')
    expect(m.stderr()).toContain(`monitor of app "${env.NENC_TEST_APP_ID}" on ${url} (read-only)`)
    m.proc.kill('SIGTERM')
    expect(await m.exited).toBe(0)
  })

  it('--mask hides the arguments of the named tasks', async () => {
    const maskEnv = { NENC_TEST_APP_ID: `${env.NENC_TEST_APP_ID}-mask` }
    process.env.NENC_TEST_APP_ID = maskEnv.NENC_TEST_APP_ID
    const mod = (await import(`${fixture('redis-app.mjs')}?${maskEnv.NENC_TEST_APP_ID}`)) as {
      app: { purge(): Promise<void>; close(): Promise<void> }
      add: (x: number, y: number) => Promise<{ id: string }>
    }
    try {
      const inv = await mod.add(40, 2) // REGISTERED and queued; no runner needed to show it
      const m = startMonitorProcess(['--port', '0', '--mask', 'add, other'], maskEnv)
      const { url } = await m.ready
      const page = await (await fetch(`${url}/invocations/${inv.id}`)).text()
      expect(page).toContain('masked by the monitor')
      expect(page).not.toMatch(/40,\s*2/)
      m.proc.kill('SIGTERM')
      expect(await m.exited).toBe(0)
    } finally {
      await mod.app.purge()
      await mod.app.close()
    }
  })

  it('refuses a non-loopback host without a token (exit 2, says what to do); a token makes it require it', async () => {
    const refused = await nenc(
      ['monitor', '--app', fixture('redis-app.mjs'), '--host', '0.0.0.0', '--port', '0'],
      {
        ...env,
        NENC__MONITOR__TOKEN: '',
      },
    )
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(
      'is not a loopback address: give a token (--token or NENC__MONITOR__TOKEN)',
    )
    const token = 'cli-test-token-0123456789'
    const m = startMonitorProcess(['--host', '0.0.0.0', '--port', '0'], {
      ...env,
      NENC__MONITOR__TOKEN: token,
    })
    const { url } = await m.ready
    const port = new URL(url).port
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401)
    expect(
      (await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200)
    m.proc.kill('SIGTERM')
    expect(await m.exited).toBe(0)
  })
})
