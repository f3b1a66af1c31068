import type { NencOptions } from '@nenc/core'
import { type Backend, Nenc, onCron } from '@nenc/core'

/** Cron triggers in the trigger scenario (issue 12: 1,000 due in the same minute). */
export const TRIGGERS = 1_000

/**
 * The i-th expression: every minute, spelled differently for each trigger (`0-59,<m> 0-23,<h> *
 * * *`), so each is its own cron condition with its own stored last execution (one shared
 * expression would be one condition and one tick for all of them).
 */
export const everyMinute = (i: number): string => `0-59,${i % 60} 0-23,${Math.floor(i / 60) % 24} * * *`

/**
 * The app of the trigger scenario, built the same in the bench process and in each runner
 * child: `TRIGGERS` tasks, each with its own every-minute cron trigger. A task returns the time
 * it started running, so the bench reads when every triggered invocation was running from the
 * results (same machine, same clock).
 */
export function triggerApp(appId: string, backend: Backend, extra: Partial<NencOptions> = {}): Nenc {
  const app = new Nenc({ appId, backend, env: {}, ...extra })
  for (let i = 0; i < TRIGGERS; i++)
    app.task(`cron${i}`, async (_scheduledAt: number) => Date.now(), {
      triggers: [onCron(everyMinute(i), { args: (c) => [c.scheduledAt] })],
    })
  return app
}
