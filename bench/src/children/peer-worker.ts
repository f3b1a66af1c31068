/**
 * Child process: one peer worker (BullMQ, graphile-worker or pg-boss), so the peer runs in its
 * own process exactly like nenc's runner. It counts finished jobs and tells the parent when the
 * count it was told to expect is reached (`expect` → `expecting` … `done`); with
 * `notify: true` it also reports every finished job id (`job`), for round-trip timing.
 */
import type { JobCounter, PeerName } from '../peers/counter.js'
import { sendToParent, serveParent } from './protocol.js'

let target = Number.POSITIVE_INFINITY
let count = 0
let notify = false

const counter: JobCounter = {
  done(k, id) {
    count += k
    if (notify && id !== undefined) sendToParent({ type: 'job', id })
    if (count >= target) {
      target = Number.POSITIVE_INFINITY
      sendToParent({ type: 'done', count })
    }
  },
}

serveParent<{ peer: PeerName; [key: string]: unknown }>(
  async (config) => {
    notify = config.notify === true
    switch (config.peer) {
      case 'bullmq':
        return (await import('../peers/bullmq.js')).startBullmqWorker(config as never, counter)
      case 'graphile-worker':
        return (await import('../peers/graphile-worker.js')).startGraphileWorker(config as never, counter)
      case 'pg-boss':
        return (await import('../peers/pg-boss.js')).startPgBossWorker(config as never, counter)
    }
  },
  (m) => {
    if (m.type !== 'expect') return
    count = 0
    target = m.n as number
    sendToParent({ type: 'expecting' })
  },
)
