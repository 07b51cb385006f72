/** lookback(n): a window of the n partitions before each one, plus itself. */
import { PartitionError } from '../errors.js';
import { alignedMapping } from './aligned.js';
import { sameGridProblem } from './identity.js';
import type { PartitionMapping } from './types.js';

/** lookback(n): the partition itself plus the n before it (daily lookback(6) reads 7 days). */
export function lookback(n: number): PartitionMapping {
  if (!Number.isInteger(n) || n < 0) {
    throw new PartitionError(
      `lookback(${n}): n must be a whole number ≥ 0 (the count of previous partitions to read)`,
    );
  }
  return alignedMapping('lookback', {
    name: `lookback(${n})`,
    timeOnly: true,
    problem: (down, up) => sameGridProblem(`lookback(${n})`, down, up),
    keys(key, _down, up) {
      if (!up.has(key)) return []; // before the upstream's start, and so is everything earlier
      const back = Math.min(n, up.indexOf(key));
      return up.keysInRange({ from: up.shift(key, -back), to: key });
    },
  });
}
