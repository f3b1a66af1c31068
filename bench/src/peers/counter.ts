/** The peers the bench drives, each in a forked worker process. */
export type PeerName = 'bullmq' | 'graphile-worker' | 'pg-boss'

/** What a peer worker calls as jobs finish: `k` jobs done, `id` when one job is reported alone. */
export interface JobCounter {
  done(k: number, id?: string): void
}

/** `count` items numbered from `from`, in chunks of `size` (the peers' bulk-add size). */
export function* chunks(from: number, count: number, size = 1000): Generator<number[]> {
  for (let i = 0; i < count; i += size)
    yield Array.from({ length: Math.min(size, count - i) }, (_, k) => from + i + k)
}
