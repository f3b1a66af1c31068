/**
 * Quickstart: one process, memory backend, ThreadRunner. A parent task fans out to children and
 * waits for them (freeing its slot while it waits); we print the results and every
 * invocation's status timeline.
 */
import { type Invocation, Nenc } from '@nenc/core'
import { memoryBackend } from '@nenc/memory'
import { ThreadRunner } from '@nenc/runners'

const app = new Nenc({
  appId: 'quickstart',
  backend: memoryBackend(),
  // Two slots for three parents: they only finish because a waiting parent frees its slot.
  runner: new ThreadRunner({ maxThreads: 2 }),
})

const square = app.task('square', async (x: number) => {
  await new Promise((r) => setTimeout(r, 5))
  return x * x
})

const sumOfSquares = app.task('sumOfSquares', async (xs: number[]) => {
  const group = await square.parallelize(xs.map((x) => [x] as [number]))
  const parts = await group.results()
  return parts.reduce((a, b) => a + b, 0)
})

async function timeline(inv: Invocation<unknown>, t0: number): Promise<string> {
  const h = await inv.history()
  return h.map((e) => `${e.status}@${e.timestamp - t0}ms`).join(' → ')
}

await app.runner.start()
const t0 = Date.now()
const parents = await sumOfSquares.parallelize([[[1, 2, 3]], [[4, 5]], [[6, 7, 8, 9]]])
const results = await parents.results()
console.log('sums of squares:', results)
for (const inv of parents.invocations) console.log(`${inv.taskName} ${inv.id}\n  ${await timeline(inv, t0)}`)
const [first] = parents.invocations
const children = await app.backend.stateBackend.getChildInvocations(first!.id)
for (const id of children)
  console.log(`  child ${id}\n    ${await timeline(app.invocation(id, 'square'), t0)}`)
await app.close()
