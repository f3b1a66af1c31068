// Plain `node main.mjs`: routes a call that `nenc runner start --app ./app.mjs` runs.
import { app, mul } from './app.mjs'

const inv = await mul(6, 7)
const result = await inv.result({ timeoutMs: 30_000 })
console.log(JSON.stringify({ mul: result }))
await app.close()
if (result !== 42) process.exit(1)
