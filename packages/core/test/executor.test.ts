import { describe, expect, it } from 'vitest'
import { context } from '../src/context.js'
import {
  type Backend,
  type ClaimedInvocation,
  type FinishRequest,
  type InvocationRecord,
  type InvocationState,
  Nenc,
  RetryError,
  type TransitionRequest,
} from '../src/index.js'
import { decodeError } from '../src/orchestration/errors-codec.js'
import {
  InvocationExecutor,
  KILLED,
  LazyAbortController,
  retryDelayMs,
} from '../src/orchestration/executor.js'

const state = (id: string, status: InvocationState['status'], attempt = 1, retries = 0): InvocationState => ({
  id,
  taskId: 'app.t',
  status,
  owner: 'runner-1',
  timestamp: 1,
  retries,
  attempt,
})

const record = (id: string, taskName: string, args: unknown[]): InvocationRecord => ({
  id,
  taskId: `app.${taskName}`,
  taskName,
  callId: `call-${id}`,
  args: JSON.stringify(args),
  parentId: null,
  workflow: { id, type: `app.${taskName}`, parentWorkflowId: null },
  createdAt: 1,
})

/**
 * An app over a stub backend whose orchestrator answers `transition` from `answer` and records
 * the requests; the executor's finish batcher is replaced by a recorder, so each test sees the
 * exact finish request the executor makes for an outcome.
 */
function setup(answer: (r: TransitionRequest) => { ok: boolean; reason?: string } = () => ({ ok: true })) {
  const transitions: TransitionRequest[][] = []
  const warns: unknown[] = []
  const noop = { init: async () => {}, close: async () => {} }
  const orchestrator = {
    ...noop,
    transition: async (reqs: TransitionRequest[]) => {
      transitions.push(reqs)
      return reqs.map((r) => {
        const a = answer(r)
        return a.ok
          ? { ok: true, state: state(r.id, r.to, r.attempt) }
          : { ok: false, reason: a.reason ?? 'stale', current: state(r.id, 'running', 9), attempt: 9 }
      })
    },
  }
  const backend = {
    broker: noop,
    orchestrator,
    stateBackend: noop,
    clientDataStore: noop,
    triggerStore: noop,
  } as unknown as Backend
  const nenc = new Nenc({ appId: 'app', backend, env: {} })
  ;(nenc as unknown as { logger: unknown }).logger = {
    warn: (o: unknown) => warns.push(o),
    error: () => {},
    debug: () => {},
    info: () => {},
    child: () => ({ info: () => {}, warn: () => {}, error: () => {}, debug: () => {} }),
  }
  const executor = new InvocationExecutor(
    nenc,
    'runner-1',
    { waitingStart: () => {}, waitingEnd: () => {} },
    () => false,
  )
  const finished: FinishRequest[] = []
  // `finish` (awaited) and `enqueue` (not awaited, once the task has returned) both queue an end.
  const recorder = executor.finisher as unknown as {
    finish: (r: FinishRequest) => Promise<void>
    enqueue: (r: FinishRequest) => void
  }
  recorder.finish = async (r) => {
    finished.push(r)
  }
  recorder.enqueue = (r) => {
    finished.push(r)
  }
  return { nenc, executor, transitions, warns, finished }
}

const started = (id: string, taskName: string, args: unknown[], s = state(id, 'running')) => ({
  state: s,
  record: record(id, taskName, args),
})

describe('InvocationExecutor.start', () => {
  it('moves pending claims to RUNNING fenced by their attempt and passes already-started ones through', async () => {
    const { executor, transitions } = setup()
    const claimed: ClaimedInvocation[] = [
      { state: state('a', 'pending', 3), record: record('a', 't', []) },
      { state: state('b', 'running', 2), record: record('b', 't', []) },
    ]
    const out = await executor.start(claimed)
    expect(transitions).toEqual([[{ id: 'a', to: 'running', actor: 'runner-1', attempt: 3 }]])
    expect(out.map((s) => [s.state.id, s.state.status])).toEqual([
      ['b', 'running'],
      ['a', 'running'],
    ])
  })

  it('drops claims whose RUNNING transition is refused and logs the stale ones', async () => {
    const { executor, warns } = setup((r) =>
      r.id === 'lost' ? { ok: false, reason: 'stale' } : { ok: true },
    )
    const out = await executor.start([
      { state: state('lost', 'pending', 1), record: record('lost', 't', []) },
      { state: state('kept', 'pending', 1), record: record('kept', 't', []) },
    ])
    expect(out.map((s) => s.state.id)).toEqual(['kept'])
    expect(JSON.stringify(warns)).toContain('lost')
  })

  it('makes no transition at all when every claim is already started', async () => {
    const { executor, transitions } = setup()
    await executor.start([{ state: state('a', 'running'), record: record('a', 't', []) }])
    expect(transitions).toEqual([])
  })
})

describe('InvocationExecutor.execute', () => {
  it('finishes SUCCESS with the serialized result under the running attempt', async () => {
    const { nenc, executor, finished } = setup()
    nenc.task('add', async (x: number, y: number) => x + y)
    await executor.execute(started('i', 'add', [2, 3], state('i', 'running', 4)), new LazyAbortController())
    expect(finished).toEqual([
      { id: 'i', attempt: 4, to: 'success', outcome: { kind: 'result', value: '5' } },
    ])
  })

  it('gives the task its context: fields, signal, a child logger and progress, destructured or not', async () => {
    const { nenc, executor, finished } = setup()
    const children: unknown[] = []
    ;(nenc as unknown as { logger: unknown }).logger = {
      warn: () => {},
      error: () => {},
      debug: () => {},
      child: (fields: unknown) => {
        children.push(fields)
        return { info: () => {} }
      },
    }
    const reports: unknown[] = []
    ;(nenc.backend.stateBackend as unknown as { setProgress: unknown }).setProgress = async (
      p: { value: string }[],
    ) => {
      reports.push(...p.map((x) => x.value))
    }
    const seen: Record<string, unknown> = {}
    nenc.task('look', async () => {
      const ctx = context()
      const { signal, logger, progress, invocationId, attempt, claimAttempt, replay } = ctx
      Object.assign(seen, {
        invocationId,
        attempt,
        claimAttempt,
        taskName: ctx.taskName,
        runnerId: ctx.runnerId,
      })
      seen.aborted = signal.aborted
      seen.sameSignal = ctx.signal === signal
      seen.replayAt = [replay?.parentId, replay?.attempt, replay?.retries]
      logger.info('hello')
      progress({ done: 1 })
      return 'ok'
    })
    await executor.execute(started('i', 'look', [], state('i', 'running', 3, 2)), new LazyAbortController())
    expect(seen).toEqual({
      invocationId: 'i',
      attempt: 2,
      claimAttempt: 3,
      taskName: 'look',
      runnerId: 'runner-1',
      aborted: false,
      sameSignal: true,
      replayAt: ['i', 3, 2],
    })
    expect(children).toEqual([{ invocationId: 'i', task: 'look', attempt: 3, retries: 2 }])
    expect(reports).toEqual(['{"done":1}'])
    expect(finished.map((f) => f.to)).toEqual(['success'])
  })

  it('retries a retriable error within maxRetries with the backoff of its retry number', async () => {
    const { nenc, executor, finished } = setup()
    nenc.task(
      'flaky',
      async () => {
        throw new RetryError('again')
      },
      { maxRetries: 3, retryBackoffMs: 100 },
    )
    await executor.execute(started('i', 'flaky', [], state('i', 'running', 2, 1)), new LazyAbortController())
    expect(finished).toEqual([{ id: 'i', attempt: 2, to: 'retry', delayMs: 200 }])
  })

  it('fails with the encoded error once the retries are used up, and for errors not in retryFor', async () => {
    class Declined extends Error {
      override name = 'Declined'
    }
    const { nenc, executor, finished } = setup()
    nenc.task(
      'charge',
      async (kind: string) => {
        throw kind === 'retry' ? new RetryError('again') : new Declined('card declined')
      },
      { maxRetries: 1 },
    )
    await executor.execute(
      started('used', 'charge', ['retry'], state('used', 'running', 2, 1)),
      new LazyAbortController(),
    )
    await executor.execute(started('plain', 'charge', ['declined']), new LazyAbortController())
    expect(finished.map((f) => [f.id, f.to])).toEqual([
      ['used', 'failed'],
      ['plain', 'failed'],
    ])
    const plain = finished[1]!
    expect(plain.outcome?.kind).toBe('error')
    const err = decodeError(plain.outcome!.value)
    expect(err.name).toBe('Declined')
    expect(err.message).toBe('card declined')
  })

  it('a task that outlives timeoutMs is aborted through its signal and follows the retry policy', async () => {
    const { nenc, executor, finished } = setup()
    let sawAbort = false
    nenc.task(
      'slow',
      async () => {
        const { signal } = context()
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            sawAbort = true
            resolve()
          })
        })
        await new Promise(() => {}) // never settles: only the timeout ends it
      },
      { timeoutMs: 20, maxRetries: 1 },
    )
    await executor.execute(started('i', 'slow', []), new LazyAbortController())
    expect(sawAbort).toBe(true)
    expect(finished).toEqual([{ id: 'i', attempt: 1, to: 'retry', delayMs: 0 }])
  })

  it('stores nothing for an execution the runner killed: the rerouted run will', async () => {
    const { nenc, executor, finished } = setup()
    const control = new LazyAbortController()
    nenc.task('long', async () => {
      control.abort(KILLED)
      return 'late'
    })
    await executor.execute(started('i', 'long', []), control)
    expect(finished).toEqual([])
  })

  it('fails with a typed error when the record is missing or the task is unknown to this runner', async () => {
    const { executor, finished } = setup()
    await executor.execute({ state: state('gone', 'running'), record: null }, new LazyAbortController())
    await executor.execute(started('nameless', 'nope', []), new LazyAbortController())
    expect(finished.map((f) => [f.id, f.to, decodeError(f.outcome!.value).name])).toEqual([
      ['gone', 'failed', 'SerializationError'],
      ['nameless', 'failed', 'TaskNotFoundError'],
    ])
  })

  it('a result that cannot be serialized fails the invocation instead of throwing', async () => {
    const { nenc, executor, finished } = setup()
    nenc.task('fn', async () => () => 1)
    await executor.execute(started('i', 'fn', []), new LazyAbortController())
    expect(finished.map((f) => [f.to, decodeError(f.outcome!.value).name])).toEqual([
      ['failed', 'SerializationError'],
    ])
  })
})

describe('retryDelayMs', () => {
  it('doubles per retry used and is capped by retryBackoffMaxMs; zero backoff means no delay', () => {
    const nenc = new Nenc({ appId: 'app', backend: setup().nenc.backend, env: {} })
    const t = nenc.task('t', async () => 1, { retryBackoffMs: 100, retryBackoffMaxMs: 350 })
    const z = nenc.task('z', async () => 1)
    const delays = [0, 1, 2, 3].map((n) => retryDelayMs(t as never, n))
    expect(delays).toEqual([100, 200, 350, 350])
    expect(retryDelayMs(z as never, 5)).toBe(0)
  })
})
