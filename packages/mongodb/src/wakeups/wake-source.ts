import type { ChangeStream, Collection, Db, Document, Timestamp } from 'mongodb'
import type { MongoConnection, WakeTransport } from '../connection.js'
import { translateError } from '../translate-error.js'
import { PollLoop } from './poll-loop.js'

/** What one component watches: a change-stream pipeline and the equivalent polling check. */
export interface WakeSourceSpec {
  collection: Collection<any>
  /** Stages after `$changeStream` (keep `_id`: it is the resume token). */
  pipeline: Document[]
  onChange(event: Document): void
  /** Polling check; true when it found (and reported) something. */
  poll(): Promise<boolean>
  /** Runs before the first poll, and `start()` waits for it (e.g. to fix where the feed begins). */
  primePolling?(): Promise<void>
}

/**
 * Delivers wake-ups written by other processes: through a change stream on replica sets and
 * sharded clusters (pushed by the server), else through a {@link PollLoop} bounded by
 * `pollIntervalMs`. A change stream that fails later (a member without majority read concern,
 * missing privileges) falls back to polling instead of going silent.
 */
export class WakeSource {
  private stream: ChangeStream<Document, Document> | null = null
  private loop: PollLoop | null = null
  private stopped = false

  constructor(
    private readonly db: Db,
    private readonly connection: MongoConnection,
    private readonly spec: WakeSourceSpec,
  ) {}

  /** True while wake-ups are pushed by a change stream. */
  get pushed(): boolean {
    return this.stream !== null
  }

  /** Resolves once every write committed from now on will be reported. */
  async start(): Promise<WakeTransport> {
    this.stopped = false
    const transport = await this.connection.wakeTransport(this.db)
    if (transport === 'change-streams') {
      try {
        await this.openStream()
        return 'change-streams'
      } catch (err) {
        if (this.connection.options.wakeUps === 'change-streams') {
          throw translateError(err, 'opening a change stream (wakeUps: "change-streams")')
        }
      }
    }
    await this.spec.primePolling?.()
    this.startPolling()
    return 'polling'
  }

  private async openStream(): Promise<void> {
    // Starting at the server's current operation time makes the stream active at once: every
    // write after this point is delivered even if the cursor opens a little later.
    const ping = await this.db.command({ ping: 1 })
    const startAtOperationTime = ping.operationTime as Timestamp | undefined
    const stream = this.spec.collection.watch<Document, Document>(
      this.spec.pipeline,
      startAtOperationTime ? { startAtOperationTime } : {},
    )
    stream.on('change', (event) => this.spec.onChange(event))
    stream.on('error', () => {
      // Resumable errors are retried inside the driver; this one closed the stream for good.
      if (this.stopped || this.stream !== stream) return
      this.stream = null
      stream.close().catch(() => {})
      this.startPolling()
    })
    this.stream = stream
    if (!startAtOperationTime) {
      // Servers that do not report an operation time: wait for the first resume token instead.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000)
        stream.once('resumeTokenChanged', () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  private startPolling(): void {
    if (this.stopped || this.loop) return
    this.loop = new PollLoop(() => this.spec.poll(), this.connection.options.pollIntervalMs)
    this.loop.start()
  }

  async stop(): Promise<void> {
    this.stopped = true
    const stream = this.stream
    this.stream = null
    await stream?.close().catch(() => {})
    await this.loop?.stop()
    this.loop = null
  }
}
