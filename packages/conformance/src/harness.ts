import { randomUUID } from 'node:crypto'
import {
  type Backend,
  COMPONENT_NAMES,
  type ConfigInput,
  type InvocationRecord,
  Nenc,
  newInvocationId,
  type RegisterRequest,
} from '@nenc/core'
import { ThreadRunner } from '@nenc/runners'
import { afterEach } from 'vitest'
import { expectValidHistories } from './assertions.js'

/** How a backend package gives the suite fresh components. */
export interface BackendFactory {
  /** Fresh, not yet initialised components for a new unique app id. */
  create(appId: string): Backend | Promise<Backend>
  /** Purges what the components stored and closes them. */
  destroy(backend: Backend): Promise<void>
  /**
   * The backends provide fused steps (`Backend.steps`): the suite then runs once through them
   * and once composed from the five components.
   */
  fusedSteps?: boolean
}

/** Settings that keep tests quick: short safety nets, no long grace periods. */
export const FAST_CONFIG: ConfigInput = {
  runner: { idleWakeMs: 200, heartbeatIntervalMs: 500, stopGraceMs: 2000 },
  orchestrator: { resultPollMs: 500, concurrencyRerouteDelayMs: 20 },
}

export interface SuiteContext {
  appId: string
  backend: Backend
}

/**
 * Gives each test fresh initialised components and tears them down afterwards. `track` lets a
 * test register apps whose invocations must all have valid histories at the end.
 */
export function useBackend(factory: BackendFactory) {
  const live: { backend: Backend; apps: Nenc[] }[] = []

  afterEach(async () => {
    const items = live.splice(0)
    for (const item of items) {
      try {
        for (const app of item.apps) await app.runner.stop()
        const ids = await item.backend.orchestrator.listInvocations({ limit: 100_000 })
        await expectValidHistories(item.backend.orchestrator, ids)
      } finally {
        for (const app of item.apps) await app.waiter.close()
        await factory.destroy(item.backend)
      }
    }
  })

  async function components(): Promise<SuiteContext> {
    const appId = `conf-${randomUUID().slice(0, 8)}`
    const backend = await factory.create(appId)
    const entry = { backend, apps: [] as Nenc[] }
    live.push(entry)
    const seen = new Set<object>()
    for (const name of COMPONENT_NAMES) {
      if (seen.has(backend[name])) continue
      seen.add(backend[name])
      await backend[name].init({ appId })
    }
    return { appId, backend }
  }

  /** An app with a ThreadRunner over fresh components; its runner is started by the test. */
  async function app(options: { maxThreads?: number; config?: ConfigInput } = {}): Promise<Nenc> {
    const { appId, backend } = await components()
    const entry = live.find((l) => l.backend === backend)!
    const config: ConfigInput = { ...FAST_CONFIG }
    for (const [k, v] of Object.entries(options.config ?? {}))
      config[k] = { ...(config[k] as object), ...(v as object) }
    const nenc = new Nenc({
      appId,
      backend,
      runner: new ThreadRunner({ maxThreads: options.maxThreads ?? 4 }),
      config,
      env: {},
    })
    entry.apps.push(nenc)
    return nenc
  }

  /**
   * `count` apps with one app id over one set of components, as `count` runner processes of one
   * app on one backend are; their runners are started (or not) by the test.
   */
  async function apps(
    count: number,
    options: { maxThreads?: number; config?: ConfigInput } = {},
  ): Promise<Nenc[]> {
    const { appId, backend } = await components()
    const entry = live.find((l) => l.backend === backend)!
    const config: ConfigInput = { ...FAST_CONFIG }
    for (const [k, v] of Object.entries(options.config ?? {}))
      config[k] = { ...(config[k] as object), ...(v as object) }
    return Array.from({ length: count }, () => {
      const nenc = new Nenc({
        appId,
        backend,
        runner: new ThreadRunner({ maxThreads: options.maxThreads ?? 4 }),
        config,
        env: {},
      })
      entry.apps.push(nenc)
      return nenc
    })
  }

  return { components, app, apps }
}

/**
 * The stored record of a register request's invocation (a synthetic task `task`, no arguments,
 * a fixed creation time so that tests can compare records read back with `toEqual`).
 */
export function recordFor(r: Pick<RegisterRequest, 'id' | 'taskId' | 'callId'>): InvocationRecord {
  return {
    id: r.id,
    taskId: r.taskId,
    taskName: 'task',
    callId: r.callId,
    args: '[]',
    parentId: null,
    workflow: { id: r.id, type: r.taskId, parentWorkflowId: null },
    createdAt: 1_700_000_000_000,
  }
}

/** Register requests for `n` new invocations of a synthetic task (component-level suites). */
export function newRequests(
  n: number,
  overrides: Partial<Omit<RegisterRequest, 'id'>> = {},
): RegisterRequest[] {
  return Array.from({ length: n }, () => ({
    id: newInvocationId(),
    taskId: 'conformance.task',
    callId: `conformance.task:${randomUUID()}`,
    actor: 'conformance-client',
    registrationKey: null,
    runningKey: null,
    rerouteOnConcurrencyControl: false,
    ...overrides,
  }))
}
