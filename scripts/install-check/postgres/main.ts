// Starts the in-process runner, routes calls and waits for their results.
import { add, app, total } from './app.js'

await app.runner.start()
const sum = await add(2, 3)
const fanned = await total([1, 2, 3])
const results = {
  add: await sum.result({ timeoutMs: 30_000 }),
  total: await fanned.result({ timeoutMs: 30_000 }),
}
console.log(JSON.stringify(results))
await app.runner.stop()
await app.close()
if (results.add !== 5 || results.total !== 9) process.exit(1)
