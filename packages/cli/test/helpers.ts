import { type ChildProcess, execFile, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `nenc <args>` as a real process. */
export function nenc(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr })
    })
  })
}

/** Starts `nenc runner start ...` (forked, so it reports its runner id over IPC). */
export function startRunnerProcess(args: string[], env: Record<string, string> = {}) {
  const proc: ChildProcess = fork(BIN, ['runner', 'start', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const running = new Promise<{ runnerId: string }>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as { runnerId: string }))
    proc.once('exit', (code) => reject(new Error(`nenc runner start exited early (${code}): ${stderr}`)))
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return { proc, running, exited, stderr: () => stderr }
}
