import {
  CorruptDataError,
  checkFilter,
  encodeCursor,
  type InvocationCount,
  type InvocationCountQuery,
  type InvocationPage,
  type InvocationPageQuery,
  type InvocationStatus,
  isFinal,
  isStatus,
  pageRequest,
} from '@nenc/core'
import type { RedisKeys } from './keys.js'
import { countInvocations, pageInvocations } from './lua/page-invocations.js'
import type { LuaScript } from './lua-script.js'

const BACKEND = 'redis'

type Run = (
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>

/** Candidates one page call may scan (a status filter over many non-matching ids). */
export const PAGE_SCAN_BUDGET = 5000
/** Ids one count call reads: counting a long range is many short scripts, not one long one. */
export const COUNT_SLICE = 5000

const bound = (ms: number | undefined) => (ms === undefined ? '' : String(Math.ceil(ms)))

/**
 * The listing and counting of the Redis orchestrator, on the creation zsets (`o:all`, `o:task:`,
 * `o:live`) that registration already maintains: nothing is added to routing, claim or finish.
 */
export async function pageRedisInvocations(
  run: Run,
  keys: RedisKeys,
  q: InvocationPageQuery,
): Promise<InvocationPage> {
  checkFilter(q)
  const { limit, after } = pageRequest(q)
  if (q.statuses?.length === 0) return { ids: [], next: null }
  const source = q.taskId !== undefined ? keys.of('byTask', q.taskId) : keys.fixed('all')
  const liveOnly = q.statuses?.every((s) => !isFinal(s)) ?? false
  const reply = (await run(
    pageInvocations,
    [source, keys.fixed('live')],
    [
      keys.prefix,
      limit,
      q.taskId ?? '',
      liveOnly ? '1' : '0',
      bound(q.createdBefore),
      bound(q.createdFrom),
      after ? String(after.createdAt) : '',
      after?.id ?? '',
      PAGE_SCAN_BUDGET,
      ...(q.statuses ?? []),
    ],
  )) as string[]
  return { ids: reply.slice(2), next: nextCursor(reply) }
}

export async function countRedisInvocations(
  run: Run,
  keys: RedisKeys,
  q: InvocationCountQuery,
): Promise<InvocationCount[]> {
  checkFilter(q)
  const source = q.taskId !== undefined ? keys.of('byTask', q.taskId) : keys.fixed('all')
  const counts = new Map<string, InvocationCount>()
  let score = ''
  let id = ''
  do {
    const reply = (await run(
      countInvocations,
      [source],
      [keys.prefix, bound(q.createdBefore), bound(q.createdFrom), '', COUNT_SLICE, score, id],
    )) as (string | number)[]
    for (let i = 2; i < reply.length; i += 3) {
      const taskId = String(reply[i])
      const status = statusOf(String(reply[i + 1]), taskId)
      const key = `${taskId}\0${status}`
      const c = counts.get(key)
      if (c) c.count += Number(reply[i + 2])
      else counts.set(key, { taskId, status, count: Number(reply[i + 2]) })
    }
    score = String(reply[0])
    id = String(reply[1])
  } while (score !== '')
  return [...counts.values()]
}

function statusOf(raw: string, taskId: string): InvocationStatus {
  if (!isStatus(raw))
    throw new CorruptDataError(BACKEND, `an invocation of ${taskId}`, `unknown status "${raw}"`)
  return raw
}

function nextCursor(reply: string[]): string | null {
  if (reply[0] === '' || reply[0] === undefined) return null
  return encodeCursor({ createdAt: Number(reply[0]), id: String(reply[1]) })
}
