import { errorText, printSkipped, progress } from './measure.js'
import { runMemory } from './memory.js'
import { type Family, parseArgs } from './options.js'

const { options, only } = parseArgs(process.argv.slice(2))

// Node prints every process warning in full, each time; one raised per invocation (e.g. a
// MaxListenersExceededWarning on a shared abort signal) would bury the progress lines.
const seenWarnings = new Set<string>()
process.removeAllListeners('warning')
process.on('warning', (w) => {
  const key = `${w.name}: ${w.message}`
  if (seenWarnings.has(key)) return
  seenWarnings.add(key)
  progress(`node warning (shown once): ${key}`)
})
const families: Record<Family, () => Promise<void>> = {
  memory: () => runMemory(options),
  redis: async () => (await import('./redis.js')).runRedis(options),
  postgres: async () => (await import('./postgres.js')).runPostgres(options),
  cpu: async () => (await import('./cpu-runners.js')).runCpuRunners(options),
  triggers: async () => (await import('./triggers.js')).runTriggers(options),
}
const started = Date.now()
for (const family of only) {
  progress(`== ${family}${options.quick ? ' (quick)' : ''}`)
  try {
    await families[family]()
  } catch (err) {
    // A family that cannot run still answers with one line, so the bench always completes.
    printSkipped(family, family, errorText(err))
    progress(`${family} failed: ${errorText(err)}`)
  }
}
progress(`done in ${Math.round((Date.now() - started) / 1000)} s`)
