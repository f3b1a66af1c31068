import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { RunnerError } from '@nenc/core'
import { entryFile } from './entry-file.js'
import { isTypeScriptPath, resolveTsxApi } from './tsx-loader.js'

/** A task error as it crosses the thread boundary. */
export interface WorkerErrorInfo {
  name: string
  message: string
  stack?: string
  code?: string
}

type Reply =
  | { jobId: number; ok: true; value: unknown }
  | { jobId: number; ok: false; error: WorkerErrorInfo }

interface Job {
  id: number
  taskName: string
  args: unknown[]
  signal?: AbortSignal
  resolve(value: unknown): void
  reject(err: unknown): void
}

interface PoolWorker {
  worker: Worker
  job: Job | null
  ready: Promise<void>
}

/** Bootstraps a worker: registers tsx when sources are TypeScript, then imports the entry. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.entry);
})().catch((err) => { console.error(err); process.exit(1); });
`

/**
 * A fixed pool of worker threads that each import the app module and run task functions by
 * name, one job per thread at a time. Arguments and results cross by structured clone. An
 * aborted job (task timeout, runner stop) terminates its thread — the only way to stop CPU-bound
 * JavaScript — and a fresh thread replaces it.
 */
export class WorkerThreadPool {
  private readonly workers: PoolWorker[] = []
  private readonly queue: Job[] = []
  private nextJobId = 1
  private closed = false

  constructor(
    private readonly appModulePath: string,
    readonly size: number = availableParallelism(),
  ) {}

  run(taskName: string, args: unknown[], signal?: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(new RunnerError('The worker thread pool is closed.'))
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextJobId++, taskName, args, signal, resolve, reject }
      if (signal) {
        if (signal.aborted) return reject(signal.reason)
        signal.addEventListener('abort', () => this.abort(job), { once: true })
      }
      this.queue.push(job)
      this.dispatch()
    })
  }

  private dispatch(): void {
    while (this.queue.length) {
      let w = this.workers.find((x) => x.job === null)
      if (!w && this.workers.length < this.size) w = this.spawn()
      if (!w) return
      const job = this.queue.shift()!
      w.job = job
      const worker = w.worker
      // Busy threads keep the process alive; idle ones do not.
      worker.ref()
      void w.ready.then(() => {
        if (w!.job === job) worker.postMessage({ jobId: job.id, taskName: job.taskName, args: job.args })
      })
    }
  }

  private spawn(): PoolWorker {
    const entry = entryFile('worker-thread-entry')
    const needsTsx = entry.typescript || isTypeScriptPath(this.appModulePath)
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: {
        entry: pathToFileURL(entry.path).href,
        appModule: this.appModulePath,
        tsxApi: needsTsx ? resolveTsxApi(this.appModulePath) : null,
      },
    })
    let markReady: () => void = () => {}
    const pw: PoolWorker = { worker, job: null, ready: new Promise<void>((r) => (markReady = r)) }
    worker.on('message', (m: Reply | { type: 'ready' }) => {
      if ('type' in m) return markReady()
      const job = pw.job
      if (!job || job.id !== m.jobId) return
      pw.job = null
      worker.unref()
      if (m.ok) job.resolve(m.value)
      else job.reject(m.error)
      this.dispatch()
    })
    worker.on('error', (err) => this.fail(pw, err))
    worker.on('exit', () => this.fail(pw, new RunnerError('A worker thread exited while running a task.')))
    worker.unref()
    this.workers.push(pw)
    return pw
  }

  private fail(pw: PoolWorker, err: unknown): void {
    const i = this.workers.indexOf(pw)
    if (i < 0) return
    this.workers.splice(i, 1)
    const job = pw.job
    pw.job = null
    job?.reject(err)
    if (!this.closed) this.dispatch()
  }

  private abort(job: Job): void {
    const qi = this.queue.indexOf(job)
    if (qi >= 0) {
      this.queue.splice(qi, 1)
      job.reject(job.signal?.reason)
      return
    }
    const pw = this.workers.find((w) => w.job === job)
    if (!pw) return
    this.workers.splice(this.workers.indexOf(pw), 1)
    pw.job = null
    job.reject(job.signal?.reason)
    void pw.worker.terminate()
    this.dispatch()
  }

  /** Starts every thread and resolves once each has loaded the app module. */
  async warm(): Promise<void> {
    while (this.workers.length < this.size) this.spawn()
    await Promise.all(this.workers.map((w) => w.ready))
  }

  async close(): Promise<void> {
    this.closed = true
    for (const job of this.queue.splice(0)) job.reject(new RunnerError('The worker thread pool closed.'))
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()))
  }
}
