import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../errors.js'
import { createLogger, type Logger } from '../logger.js'
import { APP_FIELDS, type AppConfigKey, type FieldSpec, TASK_FIELDS, type TaskConfigKey } from './schema.js'

/**
 * Where a resolved value came from. `runner constructor`: an option given to the runner's
 * constructor (`new ThreadRunner({ maxThreads })`), which beats every other source.
 */
export type ConfigSource = 'default' | 'code' | `file ${string}` | `env ${string}` | 'runner constructor'

export interface ResolvedValue<T = unknown> {
  value: T
  source: ConfigSource
}

/** Nested plain options, as written in code or in `nenc.config.json`. */
export type ConfigInput = Record<string, unknown>

export interface LoadConfigOptions {
  /** Values given in code (`new Nenc({ config })`). */
  code?: ConfigInput
  /** Explicit config file; else `NENC_CONFIG`, else `./nenc.config.json` when present. */
  file?: string
  /** Environment to read (default `process.env`). */
  env?: Record<string, string | undefined>
  /**
   * Where warnings go (a `NENC__…` variable that names no key). Default: `logger` when given,
   * else a pino logger like the app's default one, writing to stderr.
   */
  warn?: (message: string, details: Record<string, unknown>) => void
  /** The app's logger, used for warnings when `warn` is not given. */
  logger?: Logger
}

/** One row of {@link NencConfig.describe}. */
export interface ConfigRow {
  key: string
  value: unknown
  source: ConfigSource
  /** The exact environment variable that sets this key. */
  env: string
  doc: string
}

const ENV_PREFIX = 'NENC__'

/** `maxThreads` → `MAX_THREADS`; `billing.charge` → `BILLING_CHARGE`. */
export const envSegment = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()

/** The environment variable of a config key: `runner.maxThreads` → `NENC__RUNNER__MAX_THREADS`. */
export const envName = (key: string): string => ENV_PREFIX + key.split('.').map(envSegment).join('__')

/** The environment variable of one task's option: `NENC__TASK__<TASK_NAME>__<FIELD>`. */
export const taskEnvName = (taskName: string, field: string): string =>
  `${ENV_PREFIX}TASK__${envSegment(taskName)}__${envSegment(field)}`

/** Edit distance (insertions, deletions, substitutions), for "did you mean" hints. */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = cur
  }
  return prev[b.length]!
}

/** The candidate closest to `name` by edit distance (first one on ties). */
function closest(name: string, candidates: readonly string[]): string {
  let best = candidates[0]!
  let bestD = Number.POSITIVE_INFINITY
  for (const c of candidates) {
    const d = levenshtein(name, c)
    if (d < bestD) {
      best = c
      bestD = d
    }
  }
  return best
}

/** Every app-level env variable name → its key (`task.*` included). */
function appEnvNames(): Map<string, string> {
  const out = new Map<string, string>()
  for (const key of Object.keys(APP_FIELDS)) out.set(envName(key), key)
  for (const k of Object.keys(TASK_FIELDS)) out.set(envName(`task.${k}`), `task.${k}`)
  return out
}

/**
 * `NENC__…` variables that other nenc packages read themselves (not configuration keys of the
 * app): `NENC__MONITOR__TOKEN` (the web monitor's token, a secret `config show` must not print).
 */
export const PACKAGE_ENV_VARIABLES: ReadonlySet<string> = new Set(['NENC__MONITOR__TOKEN'])

/**
 * `NENC__…` variables that name no key: an app-level key, or a per-task option
 * `NENC__TASK__<TASK_NAME>__<FIELD>` with a known field (the task name cannot be checked before
 * the tasks are defined). Each comes with the closest known variable and its key.
 */
export function unknownEnvVariables(
  env: Record<string, string | undefined>,
): { variable: string; closest: string; key: string }[] {
  const known = appEnvNames()
  const taskFields = new Map(Object.keys(TASK_FIELDS).map((k) => [envSegment(k), k]))
  const out: { variable: string; closest: string; key: string }[] = []
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith(ENV_PREFIX) || env[variable] === undefined || known.has(variable)) continue
    if (PACKAGE_ENV_VARIABLES.has(variable)) continue
    const rest = variable.slice(ENV_PREFIX.length)
    if (rest.startsWith('TASK__')) {
      const tail = rest.slice('TASK__'.length)
      const isTaskOption = [...taskFields.keys()].some(
        (seg) => tail.length > seg.length + 2 && tail.endsWith(`__${seg}`),
      )
      if (isTaskOption) continue
    }
    const candidates = new Map(known)
    const task = /^TASK__(.+)__[^_][A-Z0-9_]*$/.exec(rest)?.[1]
    if (task) {
      // Shaped like a per-task option with a misspelled field: suggest that task's fields too.
      for (const [seg, k] of taskFields)
        candidates.set(`${ENV_PREFIX}TASK__${task}__${seg}`, `tasks.<${task}>.${k}`)
    }
    const best = closest(variable, [...candidates.keys()])
    out.push({ variable, closest: best, key: candidates.get(best)! })
  }
  return out
}

function getPath(obj: ConfigInput | undefined, path: string[]): unknown {
  let cur: unknown = obj
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[p]
  }
  return cur
}

/** Environment strings become JSON values where they parse (numbers, booleans), else strings. */
function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

function validate(spec: FieldSpec, key: string, value: unknown, source: ConfigSource): unknown {
  const parsed = spec.schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError(key, source, `${issue?.message ?? 'invalid'} (got ${JSON.stringify(value)})`)
  }
  return parsed.data
}

/**
 * The resolved configuration of an app. Precedence (design §6): a more specific value beats a
 * less specific one — a task's own option beats any app-wide default; at equal specificity the
 * environment beats the file, and the file beats code. Every value knows its source.
 */
export class NencConfig {
  readonly values: ReadonlyMap<string, ResolvedValue>
  /** The warnings logged at load (unknown `NENC__…` variables), for `nenc config show`. */
  readonly warnings: { variable: string; closest: string; key: string; message: string }[]
  readonly filePath: string | null
  private readonly code: ConfigInput
  private readonly fileData: ConfigInput
  private readonly env: Record<string, string | undefined>
  private readonly taskCache = new Map<string, Map<TaskConfigKey, ResolvedValue>>()

  constructor(options: LoadConfigOptions = {}) {
    this.env = options.env ?? process.env
    this.code = options.code ?? {}
    const file =
      options.file ??
      this.env.NENC_CONFIG ??
      (existsSync('nenc.config.json') ? 'nenc.config.json' : undefined)
    this.filePath = file ? resolve(file) : null
    this.fileData = this.filePath ? readConfigFile(this.filePath) : {}
    rejectUnknownKeys(this.code, 'code')
    if (this.filePath) rejectUnknownKeys(this.fileData, `file ${this.filePath}`)
    const values = new Map<string, ResolvedValue>()
    for (const [key, spec] of Object.entries(APP_FIELDS)) values.set(key, this.resolveKey(key, key, spec))
    for (const [key, spec] of Object.entries(TASK_FIELDS))
      values.set(`task.${key}`, this.resolveKey(`task.${key}`, `task.${key}`, spec))
    this.values = values
    // A typo in the file is refused; a typo in a variable cannot be (the environment holds
    // unrelated variables too), but it must not be silent either.
    this.warnings = unknownEnvVariables(this.env).map((u) => ({
      ...u,
      message:
        `Environment variable ${u.variable} names no nenc configuration key and is ignored; ` +
        `did you mean ${u.closest} (${u.key})?`,
    }))
    if (this.warnings.length) {
      const warn =
        options.warn ??
        ((message: string, details: Record<string, unknown>) =>
          (options.logger ?? createLogger(String(values.get('appId')!.value), { stderr: true })).warn(
            details,
            message,
          ))
      for (const w of this.warnings) warn(w.message, { variable: w.variable, closest: w.closest, key: w.key })
    }
  }

  private resolveKey(key: string, path: string, spec: FieldSpec, fallback?: ResolvedValue): ResolvedValue {
    const segments = path.split('.')
    const env = this.env[envName(path)]
    if (env !== undefined) {
      const source: ConfigSource = `env ${envName(path)}`
      return { value: validate(spec, key, parseEnvValue(env), source), source }
    }
    const fromFile = getPath(this.fileData, segments)
    if (fromFile !== undefined) {
      const source: ConfigSource = `file ${this.filePath}`
      return { value: validate(spec, key, fromFile, source), source }
    }
    const fromCode = getPath(this.code, segments)
    if (fromCode !== undefined) return { value: validate(spec, key, fromCode, 'code'), source: 'code' }
    return fallback ?? { value: spec.default, source: 'default' }
  }

  /** An app-level value. */
  get<K extends AppConfigKey>(key: K): ResolvedValue {
    return this.values.get(key)!
  }

  value<T>(key: AppConfigKey): T {
    return this.values.get(key)!.value as T
  }

  /**
   * The options of one task: its own file/env entries (`tasks.<name>.<key>`,
   * `NENC__TASK__<NAME>__<KEY>`) beat the options given to `app.task()`, which beat app-wide
   * defaults (`task.<key>`).
   */
  taskOptions(
    taskName: string,
    declared: Partial<Record<TaskConfigKey, unknown>>,
  ): Map<TaskConfigKey, ResolvedValue> {
    const out = new Map<TaskConfigKey, ResolvedValue>()
    for (const [k, spec] of Object.entries(TASK_FIELDS) as [TaskConfigKey, FieldSpec][]) {
      const key = `tasks.${taskName}.${k}`
      let resolved = this.values.get(`task.${k}`)!
      if (declared[k] !== undefined)
        resolved = { value: validate(spec, key, declared[k], 'code'), source: 'code' }
      const envKey = taskEnvName(taskName, k)
      const fromFile = getPath(this.fileData, ['tasks', taskName, k])
      if (this.env[envKey] !== undefined) {
        const source: ConfigSource = `env ${envKey}`
        resolved = { value: validate(spec, key, parseEnvValue(this.env[envKey]!), source), source }
      } else if (fromFile !== undefined) {
        const source: ConfigSource = `file ${this.filePath}`
        resolved = { value: validate(spec, key, fromFile, source), source }
      }
      out.set(k, resolved)
    }
    this.taskCache.set(taskName, out)
    return out
  }

  /**
   * Every resolved value with its source and its exact environment variable, tasks included,
   * for `nenc config show`. `overrides` are the values in force from elsewhere — a runner's
   * constructor options (`runner.maxThreads` …), which beat env, file and code — and are
   * reported with source `runner constructor`.
   */
  describe(options: { overrides?: Readonly<Record<string, unknown>> } = {}): ConfigRow[] {
    const overrides = options.overrides ?? {}
    const rows: ConfigRow[] = []
    for (const [key, v] of this.values) {
      const doc = key.startsWith('task.')
        ? TASK_FIELDS[key.slice(5) as TaskConfigKey].doc
        : APP_FIELDS[key as AppConfigKey].doc
      const row: ConfigRow = { key, value: v.value, source: v.source, env: envName(key), doc }
      if (overrides[key] !== undefined) {
        row.value = overrides[key]
        row.source = 'runner constructor'
      }
      rows.push(row)
    }
    for (const [name, opts] of this.taskCache) {
      for (const [k, v] of opts)
        rows.push({
          key: `tasks.${name}.${k}`,
          value: v.value,
          source: v.source,
          env: taskEnvName(name, k),
          doc: TASK_FIELDS[k].doc,
        })
    }
    return rows
  }
}

function readConfigFile(path: string): ConfigInput {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError('(file)', `file ${path}`, `cannot read the config file (${(err as Error).message})`)
  }
  try {
    const data: unknown = JSON.parse(text)
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw new Error('top level must be an object')
    return data as ConfigInput
  } catch (err) {
    throw new ConfigError('(file)', `file ${path}`, `not valid JSON: ${(err as Error).message}`)
  }
}

const SECTIONS = new Set([
  'devMode',
  'runner',
  'orchestrator',
  'retention',
  'clientDataStore',
  'triggers',
  'workflow',
  'task',
])

/** A misspelled key would otherwise be ignored silently; refuse it with its source. */
function rejectUnknownKeys(input: ConfigInput, source: string): void {
  for (const [top, value] of Object.entries(input)) {
    if (top === 'appId' || top === '$schema') continue
    if (top === 'tasks') {
      for (const [task, opts] of Object.entries((value as Record<string, unknown>) ?? {})) {
        for (const k of Object.keys((opts as Record<string, unknown>) ?? {})) {
          if (!(k in TASK_FIELDS))
            throw new ConfigError(
              `tasks.${task}.${k}`,
              source,
              `unknown task option; known: ${Object.keys(TASK_FIELDS).join(', ')}`,
            )
        }
      }
      continue
    }
    if (!SECTIONS.has(top))
      throw new ConfigError(top, source, `unknown section; known: appId, tasks, ${[...SECTIONS].join(', ')}`)
    for (const k of Object.keys((value as Record<string, unknown>) ?? {})) {
      const key = `${top}.${k}`
      const known = top === 'task' ? k in TASK_FIELDS : key in APP_FIELDS
      if (!known) throw new ConfigError(key, source, 'unknown key')
    }
  }
}
