// Routes calls while `nenc runner start --app ./app.ts` (the installed bin) runs them.
import { add, app, total } from './app.js'

const sum = await add(2, 3)
const fanned = await total([1, 2, 3])
const results = {
  add: await sum.result({ timeoutMs: 30_000 }),
  total: await fanned.result({ timeoutMs: 30_000 }),
}
console.log(JSON.stringify({ ...results, totalId: fanned.id }))
await app.close()
if (results.add !== 5 || results.total !== 9) process.exit(1)
