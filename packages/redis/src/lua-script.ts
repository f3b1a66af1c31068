import { createHash } from 'node:crypto'

/**
 * One Lua script: its source (prelude + body) and SHA1, run with EVALSHA and, when the server
 * does not know it yet (`NOSCRIPT`, e.g. after a restart), with EVAL, which also caches it.
 */
export class LuaScript {
  readonly source: string
  readonly sha: string

  /**
   * @param name the action, as in `src/lua/<name>.ts`; used in error messages.
   * @param body the script's own code, starting with its KEYS/ARGV/returns header.
   * @param prelude shared definitions placed before the body (status table, key helpers).
   */
  constructor(
    readonly name: string,
    body: string,
    prelude = '',
  ) {
    this.source = pruneKeyHelpers(prelude ? `${prelude}\n${body}` : body)
    this.sha = createHash('sha1').update(this.source).digest('hex')
  }
}

/**
 * Drops the `K_<part>` key helpers a script never calls: every helper is a closure the script
 * would build on each call for nothing.
 */
function pruneKeyHelpers(source: string): string {
  return source
    .split('\n')
    .filter((line) => {
      const m = /^local function (K_\w+)\(/.exec(line)
      return !m || source.split(`${m[1]}(`).length > 2
    })
    .join('\n')
}
