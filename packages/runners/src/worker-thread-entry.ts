/**
 * Entry of ThreadRunner's worker threads: imports the app module and runs task functions by
 * name. Only the function runs here; statuses, results and components stay on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadApp } from './app-module.js'

const port = parentPort!
const app = await loadApp((workerData as { appModule: string }).appModule)

port.on('message', async (m: { jobId: number; taskName: string; args: unknown[] }) => {
  try {
    const task = app.getTask(m.taskName)
    if (!task) throw new Error(`No task named "${m.taskName}" in the worker's app module.`)
    const value = await task.fn(...m.args)
    port.postMessage({ jobId: m.jobId, ok: true, value })
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    const code = (e as { code?: unknown }).code
    port.postMessage({
      jobId: m.jobId,
      ok: false,
      error: {
        name: e.name,
        message: e.message,
        stack: e.stack,
        code: typeof code === 'string' ? code : undefined,
      },
    })
  }
})
port.postMessage({ type: 'ready' })
