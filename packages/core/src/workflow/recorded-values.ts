/** Where recorded workflow values live: the state backend's workflow data, or a map in dev mode. */
export interface WorkflowDataStore {
  get(workflowId: string, key: string): Promise<string | null>
  set(workflowId: string, key: string, value: string): Promise<void>
}

/**
 * The values one execution of a workflow root records (random numbers, times, uuids, the child
 * at each position, the code version), fenced by the execution's claim attempt without any
 * compare-and-set in the backend:
 *
 * - attempt `k` writes a value it had to generate under `<name>#k`, and only after it found no
 *   earlier attempt's value for that name;
 * - attempt `k` reads, for a name, the value of the highest attempt below `k` that has one.
 *
 * Why this is safe against a zombie (an earlier attempt still running after its invocation was
 * claimed again): attempts only grow, so a zombie always writes under a lower attempt than the
 * live execution. If the zombie wrote first, the live execution reads and uses the zombie's value
 * and writes nothing, so the record holds one value. If the live execution wrote first, a later
 * zombie write lands under a lower attempt and every later run reads the live one's value (the
 * highest). Either way, what any later run replays is what the run it continues actually used.
 * A first run (attempt 1) has nothing to read: recording costs one write and no read.
 */
export class RecordedValues {
  private readonly cache = new Map<string, string>()

  constructor(
    private readonly store: WorkflowDataStore,
    private readonly workflowId: string,
    /** The claim attempt of this execution (1 on the first claim). */
    readonly attempt: number,
  ) {}

  /** The value an earlier attempt recorded for `name`, or null (one read per earlier attempt, in parallel). */
  async recorded(name: string): Promise<string | null> {
    const hit = this.cache.get(name)
    if (hit !== undefined) return hit
    if (this.attempt <= 1) return null
    const earlier = Array.from({ length: this.attempt - 1 }, (_, i) => this.attempt - 1 - i) // highest first
    const values = await Promise.all(earlier.map((a) => this.store.get(this.workflowId, keyOf(name, a))))
    const found = values.find((v) => v !== null) ?? null
    if (found !== null) this.cache.set(name, found)
    return found
  }

  /** The recorded value of `name`, or `generate()`'s, recorded under this attempt first. */
  async value(name: string, generate: () => string): Promise<string> {
    const earlier = await this.recorded(name)
    if (earlier !== null) return earlier
    const fresh = generate()
    await this.record(name, fresh)
    return fresh
  }

  /** Records `value` for `name` under this attempt. */
  async record(name: string, value: string): Promise<void> {
    await this.store.set(this.workflowId, keyOf(name, this.attempt), value)
    this.cache.set(name, value)
  }
}

/** The workflow-data key of one recorded value (`nenc:` keeps them apart from user data keys). */
export const keyOf = (name: string, attempt: number): string => `nenc:${name}#${attempt}`
