import { type AnyTask, deserializeArgs, type Nenc, NencError } from '@nenc/core'
import type { ListFilters } from './filters.js'
import { listPage } from './read/listing.js'

/** An action the monitor refuses, with the reason shown to the user (status 409). */
export class ActionError extends Error {}

/** The most invocations one bulk re-run touches (a filter matching more is refused). */
export const MAX_BULK = 10_000

function taskOf(app: Nenc, taskName: string, id: string): AnyTask {
  const task = app.getTask(taskName)
  if (!task) {
    throw new ActionError(
      `Cannot re-run ${id}: task "${taskName}" is not defined in the app the monitor loaded (start the monitor with the app module that defines it).`,
    )
  }
  return task
}

/** Re-runs one invocation: a new top-level invocation of its task with the same arguments. */
export async function rerun(app: Nenc, id: string): Promise<string> {
  const [record] = await app.backend.stateBackend.getInvocations([id])
  if (!record) throw new ActionError(`Cannot re-run ${id}: no stored call (arguments) for it.`)
  const task = taskOf(app, record.taskName, id)
  const args = await readArgs(app, record.args, id)
  const [inv] = await routeAll(task, [args])
  return inv!
}

/**
 * Re-runs every FAILED invocation matching the filter (each a new invocation with the same
 * arguments, routed in one batch per task). Returns the new ids by the failed id they re-run.
 */
export async function retryFailed(
  app: Nenc,
  filter: ListFilters,
  masked: ReadonlySet<string> = new Set(),
): Promise<Map<string, string>> {
  const failed: { id: string; taskName: string; args: string }[] = []
  let cursor: string | null = null
  do {
    const page = await listPage(
      app,
      { ...filter, statuses: ['failed'], cursor: cursor ?? undefined },
      500,
      masked,
    )
    for (const r of page.rows) {
      if (r.state.status !== 'failed') continue
      if (!r.record) throw new ActionError(`Cannot re-run ${r.state.id}: no stored call (arguments) for it.`)
      failed.push({ id: r.state.id, taskName: r.record.taskName, args: r.record.args })
    }
    if (failed.length > MAX_BULK)
      throw new ActionError(`More than ${MAX_BULK} failed invocations match: narrow the filter.`)
    cursor = page.next
  } while (cursor)
  const byTask = new Map<string, typeof failed>()
  for (const f of failed) byTask.set(f.taskName, [...(byTask.get(f.taskName) ?? []), f])
  const out = new Map<string, string>()
  for (const [taskName, items] of byTask) {
    const task = taskOf(app, taskName, items[0]!.id)
    const argsList = await Promise.all(items.map((i) => readArgs(app, i.args, i.id)))
    const ids = await routeAll(task, argsList)
    for (const [i, item] of items.entries()) out.set(item.id, ids[i]!)
  }
  return out
}

async function readArgs(app: Nenc, raw: string, id: string): Promise<unknown[]> {
  try {
    const args = await deserializeArgs(app.serializer, raw, app.backend.clientDataStore, app.largeValues)
    return args as unknown[]
  } catch (err) {
    const why = err instanceof NencError ? err.message : String(err)
    throw new ActionError(`Cannot re-run ${id}: its arguments cannot be read (${why}).`)
  }
}

async function routeAll(task: AnyTask, argsList: unknown[][]): Promise<string[]> {
  const group = await task.parallelize(argsList)
  return group.invocations.map((i) => i.id)
}

/**
 * Removes every finished invocation (SUCCESS, FAILED, CANCELED, CONCURRENCY_CONTROLLED_FINAL)
 * created and finished before `before`: core's retention sweep (`app.purgeFinished`), so the
 * children of a running parent and the steps of a running workflow are kept. Returns how many
 * were removed.
 */
export function purgeFinished(app: Nenc, before: number): Promise<number> {
  return app.purgeFinished(0, before)
}
