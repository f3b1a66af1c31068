import { InvalidArgumentError } from 'commander'

/** A whole number ≥ 1 (commander argument parser). */
export function parseCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1.')
  return n
}
