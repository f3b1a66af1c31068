import { describeCondition, type Nenc, type TriggerListing } from '@nenc/core'
import type { Command } from 'commander'
import { loadCliApp } from '../load-app.js'

const time = (t: number | null) => (t === null ? '-' : new Date(t).toISOString())

/** The listing as text: one block per trigger. */
export function formatTriggers(list: readonly TriggerListing[]): string {
  if (list.length === 0) return 'no triggers declared in this app\n'
  const lines: string[] = []
  for (const t of list) {
    lines.push(`${t.taskName}  ${t.logic === 'and' ? 'all of' : 'any of'}  (${t.id})`)
    for (const c of t.conditions) lines.push(`  - ${describeCondition(c.spec)}`)
    lines.push(`  overlap ${t.overlap}  missed ${JSON.stringify(t.missed)}`)
    lines.push(`  last run ${time(t.lastRun)}  next run ${time(t.nextRun)}`)
  }
  return `${lines.join('\n')}\n`
}

export async function listTriggers(app: Nenc): Promise<TriggerListing[]> {
  return app.triggers.list()
}

/** `nenc trigger list`: each declared trigger, its conditions, last and next cron run. */
export function registerTriggerList(trigger: Command): void {
  trigger
    .command('list')
    .description('list the triggers the app declares: conditions, last and next cron run')
    .option('--app <path>', 'module exporting the Nenc app; env NENC_APP')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { app?: string; json?: boolean }) => {
      const app = await loadCliApp(opts.app)
      try {
        const list = await listTriggers(app)
        process.stdout.write(opts.json ? `${JSON.stringify(list, null, 2)}\n` : formatTriggers(list))
      } finally {
        await app.close()
      }
    })
}
