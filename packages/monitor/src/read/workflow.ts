import type { InvocationRecord, InvocationState, Nenc } from '@nenc/core'

export interface WorkflowNode {
  record: InvocationRecord
  state: InvocationState | null
  children: WorkflowNode[]
}

export interface WorkflowRun {
  id: string
  type: string | null
  parentWorkflowId: string | null
  roots: WorkflowNode[]
  size: number
  /** The run has more invocations than were read. */
  truncated: boolean
}

/** Invocations of one run read for its tree (a run larger than that shows its newest ones). */
export const MAX_RUN_SIZE = 2000

/**
 * One workflow run as a tree: its invocations (the state backend's workflow listing, root
 * included, sub-workflows' own invocations not), arranged by parent. An invocation whose parent
 * is not in the run (a sub-workflow's root) is a root of the tree.
 */
export async function readWorkflow(app: Nenc, workflowId: string): Promise<WorkflowRun | null> {
  const { orchestrator, stateBackend } = app.backend
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page = await stateBackend.listInvocationRecords({ workflowId, limit: 1000, cursor })
    ids.push(...page.ids)
    cursor = ids.length < MAX_RUN_SIZE ? page.next : null
    if (ids.length >= MAX_RUN_SIZE) break
  } while (cursor)
  if (ids.length === 0) return null
  const [records, states] = await Promise.all([stateBackend.getInvocations(ids), orchestrator.getStates(ids)])
  const nodes = new Map<string, WorkflowNode>()
  records.forEach((record, i) => {
    if (record) nodes.set(record.id, { record, state: states[i] ?? null, children: [] })
  })
  const roots: WorkflowNode[] = []
  // Oldest first within each level: the order the run created them.
  for (const node of [...nodes.values()].reverse()) {
    const parent = node.record.parentId ? nodes.get(node.record.parentId) : undefined
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  const root = nodes.get(workflowId)
  return {
    id: workflowId,
    type: root?.record.workflow.type ?? records.find((r) => r)?.workflow.type ?? null,
    parentWorkflowId: root?.record.workflow.parentWorkflowId ?? null,
    roots,
    size: nodes.size,
    truncated: ids.length >= MAX_RUN_SIZE && cursor !== null,
  }
}

/**
 * Runs of one workflow type (the root's task id), newest first: the task's invocations that are
 * the root of their own workflow (a call from outside a task, or a sub-workflow's root). One
 * orchestrator page per request; a page may be short while `next` is set.
 */
export async function readRuns(
  app: Nenc,
  type: string,
  cursor: string | null,
  size = 25,
): Promise<{ rows: { record: InvocationRecord; state: InvocationState }[]; next: string | null }> {
  const { orchestrator, stateBackend } = app.backend
  const page = await orchestrator.pageInvocations({ taskId: type, limit: size, cursor })
  const [records, states] = await Promise.all([
    stateBackend.getInvocations(page.ids),
    orchestrator.getStates(page.ids),
  ])
  const rows: { record: InvocationRecord; state: InvocationState }[] = []
  records.forEach((record, i) => {
    const state = states[i]
    if (record && state && record.workflow.id === record.id) rows.push({ record, state })
  })
  return { rows, next: page.next }
}
