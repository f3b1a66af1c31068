import type { Nenc, RunnerContextRecord, RunnerHeartbeat } from '@nenc/core'
import type { Command } from 'commander'
import { loadCliApp } from '../load-app.js'

/** One alive runner as `nenc runners` shows it; children run under their parent. */
export interface RunnerReport {
  runnerId: string
  /** null when the runner heartbeats but stored no context (or it is unreadable). */
  runnerClass: string | null
  pid: number | null
  hostname: string | null
  startedAt: number | null
  /** Most invocations it runs at once; null for child runners (counted in their parent's). */
  slots: number | null
  lastHeartbeat: number
  /** ms since its last heartbeat, at the time of the read. */
  heartbeatAgeMs: number
  canRunAtomicService: boolean
  children: RunnerReport[]
}

export interface RunnersReport {
  appId: string
  /** A runner without a heartbeat for this long counts as dead (orchestrator.runnerDeadAfterMs). */
  deadAfterMs: number
  runners: RunnerReport[]
}

/**
 * The runners alive now: those with a heartbeat within `orchestrator.runnerDeadAfterMs` (the
 * threshold recovery uses), with the context each stored at start; a child (process runners'
 * workers) is listed under its parent when the parent is alive too.
 */
export async function readRunners(app: Nenc, now = Date.now()): Promise<RunnersReport> {
  await app.ready()
  const deadAfterMs = app.config.value<number>('orchestrator.runnerDeadAfterMs')
  const beats = await app.backend.orchestrator.getActiveRunners(deadAfterMs)
  const contexts = await Promise.all(
    beats.map((b) => app.backend.stateBackend.getRunnerContext(b.runnerId).catch(() => null)),
  )
  const parents = new Map<string, string | null>()
  const byId = new Map<string, RunnerReport>()
  beats.forEach((b: RunnerHeartbeat, i) => {
    const ctx: RunnerContextRecord | null = contexts[i] ?? null
    parents.set(b.runnerId, ctx?.parentRunnerId ?? null)
    byId.set(b.runnerId, {
      runnerId: b.runnerId,
      runnerClass: ctx?.runnerClass ?? null,
      pid: ctx?.pid ?? null,
      hostname: ctx?.hostname ?? null,
      startedAt: ctx?.startedAt ?? null,
      slots: ctx?.slots ?? null,
      lastHeartbeat: b.lastHeartbeat,
      heartbeatAgeMs: Math.max(0, now - b.lastHeartbeat),
      canRunAtomicService: b.canRunAtomicService,
      children: [],
    })
  })
  const top: RunnerReport[] = []
  for (const [id, report] of byId) {
    const parent = parents.get(id)
    const parentReport = parent ? byId.get(parent) : undefined
    if (parentReport) parentReport.children.push(report)
    else top.push(report)
  }
  return { appId: app.appId, deadAfterMs, runners: top }
}

function runnerLine(r: RunnerReport, indent: string): string {
  const where = r.pid === null ? '(no context stored)' : `pid ${r.pid} on ${r.hostname}`
  const started = r.startedAt === null ? '' : `  started ${new Date(r.startedAt).toISOString()}`
  const atomic = r.canRunAtomicService ? '  atomic services' : ''
  const slots = r.slots === null ? '' : `  ${r.slots} slots`
  return `${indent}${r.runnerId}  ${r.runnerClass ?? '?'}  ${where}${slots}${started}  heartbeat ${r.heartbeatAgeMs} ms ago${atomic}`
}

/** The tree of alive runners, or a sentence saying that none is alive and what that means. */
export function formatRunners(report: RunnersReport): string {
  if (!report.runners.length) {
    return (
      `no runner of app "${report.appId}" is alive: none sent a heartbeat in the last ` +
      `${report.deadAfterMs} ms (orchestrator.runnerDeadAfterMs); queued invocations wait until one starts\n`
    )
  }
  const lines: string[] = []
  const walk = (r: RunnerReport, depth: number) => {
    lines.push(runnerLine(r, `${'  '.repeat(depth)}${depth ? '└ ' : ''}`))
    for (const c of r.children) walk(c, depth + 1)
  }
  for (const r of report.runners) walk(r, 0)
  return `${lines.join('\n')}\n`
}

/** `nenc runners`: the alive runners of the app, their heartbeats and their children. */
export function registerRunners(program: Command): void {
  program
    .command('runners')
    .description("list the app's alive runners: heartbeats, where they run, their child runners")
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = await loadCliApp(opts.app)
      try {
        const report = await readRunners(app)
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatRunners(report))
      } finally {
        await app.close()
      }
    })
}
