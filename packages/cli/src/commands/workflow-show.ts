import type { Nenc } from '@nenc/core'
import type { Command } from 'commander'
import { CliError } from '../cli-error.js'
import { loadCliApp } from '../load-app.js'
import { parseCount } from './parse.js'

/** One invocation of the workflow with the ones it called (within this workflow). */
export interface WorkflowNode {
  id: string
  task: string
  status: string | null
  attempt: number | null
  /** ms epoch of routing. */
  createdAt: number
  /** Set on a top-level node that is not the workflow's root: its parent is outside the listing. */
  parentId?: string
  children: WorkflowNode[]
}

/** Everything `nenc workflow show` prints, also its `--json` output. */
export interface WorkflowReport {
  workflowId: string
  /** Task name of the workflow's root. */
  type: string | null
  parentWorkflowId: string | null
  /** The root first; then any invocation whose parent is not listed (sub-workflows are not). */
  roots: WorkflowNode[]
  /** Invocations shown. */
  count: number
  /** More invocations exist than `--limit` allowed reading. */
  truncated: boolean
}

export const DEFAULT_WORKFLOW_LIMIT = 1000

/**
 * Reads the workflow's invocations (the state backend's records by workflow, page by page, up
 * to `limit`) and their states, and nests each under its parent; siblings oldest first.
 */
export async function readWorkflow(
  app: Nenc,
  workflowId: string,
  limit = DEFAULT_WORKFLOW_LIMIT,
): Promise<WorkflowReport> {
  await app.ready()
  const { orchestrator, stateBackend } = app.backend
  const ids: string[] = []
  let cursor: string | null = null
  let truncated = false
  do {
    const page = await stateBackend.listInvocationRecords({
      workflowId,
      limit: Math.min(1000, limit - ids.length),
      cursor,
    })
    ids.push(...page.ids)
    cursor = page.next
    if (cursor && ids.length >= limit) {
      truncated = true
      break
    }
  } while (cursor)
  if (!ids.length) throw new CliError(`Workflow ${workflowId} has no invocations in app "${app.appId}".`)
  const [records, states] = await Promise.all([stateBackend.getInvocations(ids), orchestrator.getStates(ids)])
  const nodes = new Map<string, WorkflowNode>()
  const parentOf = new Map<string, string | null>()
  ids.forEach((id, i) => {
    const r = records[i]
    if (!r) return // removed between the listing and this read
    nodes.set(id, {
      id,
      task: r.taskName,
      status: states[i]?.status ?? null,
      attempt: states[i]?.attempt ?? null,
      createdAt: r.createdAt,
      children: [],
    })
    parentOf.set(id, r.parentId)
  })
  const byAge = [...nodes.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  const roots: WorkflowNode[] = []
  for (const n of byAge) {
    const parentId = parentOf.get(n.id) ?? null
    const parent = parentId ? nodes.get(parentId) : undefined
    if (parent) parent.children.push(n)
    else {
      if (parentId) n.parentId = parentId
      roots.push(n)
    }
  }
  // The workflow's root (its id is the workflow id) leads; other top-level nodes name their parent.
  roots.sort((a, b) => Number(b.id === workflowId) - Number(a.id === workflowId))
  const root = records.find((r) => r?.id === workflowId)
  const anyRecord = records.find((r) => r)
  return {
    workflowId,
    type: root?.taskName ?? null,
    parentWorkflowId: anyRecord?.workflow.parentWorkflowId ?? null,
    roots,
    count: nodes.size,
    truncated,
  }
}

/** The tree drawn with box characters: `id  task  status  #attempt` per line. */
export function formatWorkflow(r: WorkflowReport): string {
  const lines = [
    `workflow ${r.workflowId}`,
    `  type      ${r.type ?? '-'}`,
    `  parent    ${r.parentWorkflowId ?? '-'}`,
    `  count     ${r.count} invocation(s)${r.truncated ? ' (more exist: raise --limit)' : ''}`,
    '',
  ]
  const label = (n: WorkflowNode) =>
    `${n.id}  ${n.task}  ${n.status ?? '(no state)'}${n.attempt ? `  #${n.attempt}` : ''}`
  const walk = (n: WorkflowNode, prefix: string, last: boolean) => {
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label(n)}`)
    const inner = prefix + (last ? '   ' : '│  ')
    for (const [i, c] of n.children.entries()) walk(c, inner, i === n.children.length - 1)
  }
  for (const root of r.roots) {
    lines.push(`${label(root)}${root.parentId ? `  (parent ${root.parentId} not listed)` : ''}`)
    for (const [i, c] of root.children.entries()) walk(c, '', i === root.children.length - 1)
  }
  return `${lines.join('\n')}\n`
}

/** `nenc workflow show <id>`: the workflow's invocations as a tree with their statuses. */
export function registerWorkflowShow(workflow: Command): void {
  workflow
    .command('show <id>')
    .description("show a workflow's invocations as a tree (who called whom) with their statuses")
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--json', 'print JSON instead of text')
    .option(
      '--limit <n>',
      `read at most this many invocations (default ${DEFAULT_WORKFLOW_LIMIT})`,
      parseCount,
    )
    .action(async (id: string, opts: { app?: string; json?: boolean; limit?: number }) => {
      const app = await loadCliApp(opts.app)
      try {
        const report = await readWorkflow(app, id, opts.limit)
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatWorkflow(report))
      } finally {
        await app.close()
      }
    })
}
