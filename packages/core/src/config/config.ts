import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../errors.js'
import { APP_FIELDS, type AppConfigKey, type FieldSpec, TASK_FIELDS, type TaskConfigKey } from './schema.js'

/** Where a resolved value came from. */
export type ConfigSource = 'default' | 'code' | `file ${string}` | `env ${string}`

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
}

const ENV_PREFIX = 'NENC__'

/** `maxThreads` → `MAX_THREADS`; `billing.charge` → `BILLING_CHARGE`. */
export const envSegment = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()

const envName = (key: string): string => ENV_PREFIX + key.split('.').map(envSegment).join('__')

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
      const envKey = `${ENV_PREFIX}TASK__${envSegment(taskName)}__${envSegment(k)}`
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

  /** Every resolved value with its source, tasks included, for `nenc config show`. */
  describe(): { key: string; value: unknown; source: ConfigSource; doc: string }[] {
    const rows: { key: string; value: unknown; source: ConfigSource; doc: string }[] = []
    for (const [key, v] of this.values) {
      const doc = key.startsWith('task.')
        ? TASK_FIELDS[key.slice(5) as TaskConfigKey].doc
        : APP_FIELDS[key as AppConfigKey].doc
      rows.push({ key, value: v.value, source: v.source, doc })
    }
    for (const [name, opts] of this.taskCache) {
      for (const [k, v] of opts)
        rows.push({ key: `tasks.${name}.${k}`, value: v.value, source: v.source, doc: TASK_FIELDS[k].doc })
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

const SECTIONS = new Set(['devMode', 'runner', 'orchestrator', 'clientDataStore', 'task'])

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
