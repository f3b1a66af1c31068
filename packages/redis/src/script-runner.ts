import type { Redis } from 'ioredis'
import { translateError } from './errors-from-code.js'
import type { LuaScript } from './lua-script.js'

type Arg = string | number

/** Items per script call in large batches (see {@link ScriptRunner.evalMany}). */
const SCRIPT_CHUNK = 200

/**
 * Runs the Lua scripts on a connection's command client, one round trip per call: `EVALSHA`,
 * with `SCRIPT LOAD` in front of the first use on each socket (a reconnection may meet a
 * restarted server), and large batches split into chunks sent as one pipeline. Errors are
 * translated at this boundary.
 */
export class ScriptRunner {
  constructor(private readonly conn: { readonly client: Redis; readonly server: string }) {}

  /** Scripts known to be loaded, per socket (a reconnection may meet a restarted server). */
  private readonly loaded = new WeakMap<object, Set<string>>()

  private isLoaded(client: Redis, script: LuaScript): boolean {
    const stream = (client as unknown as { stream?: object }).stream
    return stream ? (this.loaded.get(stream)?.has(script.sha) ?? false) : false
  }

  private markLoaded(client: Redis, script: LuaScript, loaded: boolean): void {
    const stream = (client as unknown as { stream?: object }).stream
    if (!stream) return
    let set = this.loaded.get(stream)
    if (!set) this.loaded.set(stream, (set = new Set()))
    if (loaded) set.add(script.sha)
    else set.delete(script.sha)
  }

  /** Runs a script in one round trip and translates its errors. */
  async eval(script: LuaScript, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    const client = this.conn.client
    if (!this.isLoaded(client, script)) return (await this.evalMany(script, [{ keys, args }]))[0]
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        this.markLoaded(client, script, false)
        return (await this.evalMany(script, [{ keys, args }]))[0]
      }
      throw translateError(err, script.name, this.conn.server)
    }
  }

  /**
   * Runs a script once per call, in order, as one pipeline: one round trip, while Redis may
   * serve other clients between the calls (a 20,000-id batch in one script would block every
   * runner for its whole duration). A socket that has not run the script yet gets `SCRIPT LOAD`
   * in front of the same pipeline (loaded scripts are not evicted, unlike EVAL's cache on 7.4+).
   */
  async evalMany(
    script: LuaScript,
    calls: readonly { keys: readonly string[]; args: readonly Arg[] }[],
  ): Promise<unknown[]> {
    const client = this.conn.client
    for (let attempt = 0; ; attempt++) {
      const load = !this.isLoaded(client, script)
      const pipe = client.pipeline()
      if (load) pipe.script('LOAD', script.source)
      for (const c of calls) pipe.evalsha(script.sha, c.keys.length, ...c.keys, ...c.args)
      let replies: [Error | null, unknown][]
      try {
        replies = (await pipe.exec()) ?? []
      } catch (err) {
        throw translateError(err, script.name, this.conn.server)
      }
      if (load) {
        const [loadErr] = replies.shift() ?? [null]
        if (loadErr) throw translateError(loadErr, script.name, this.conn.server)
        this.markLoaded(client, script, true)
      }
      // Only a SCRIPT FLUSH between the load and the calls gets here; no call ran, retry once.
      if (attempt === 0 && replies.some(([e]) => e?.message.startsWith('NOSCRIPT'))) {
        this.markLoaded(client, script, false)
        continue
      }
      return replies.map(([err, value]) => {
        if (err) throw translateError(err, script.name, this.conn.server)
        return value
      })
    }
  }

  /**
   * Runs a script over `items` in chunks of `chunk` (one pipeline, see {@link evalMany}) and
   * concatenates the array replies. `args(items)` gives one chunk's ARGV.
   */
  async evalChunked<T>(
    script: LuaScript,
    keys: readonly string[],
    items: readonly T[],
    args: (chunk: readonly T[]) => Arg[],
    chunk = SCRIPT_CHUNK,
  ): Promise<unknown[][]> {
    if (items.length <= chunk) return [(await this.eval(script, keys, args(items))) as unknown[]]
    const calls: { keys: readonly string[]; args: Arg[] }[] = []
    for (let i = 0; i < items.length; i += chunk) calls.push({ keys, args: args(items.slice(i, i + chunk)) })
    return (await this.evalMany(script, calls)) as unknown[][]
  }
}
