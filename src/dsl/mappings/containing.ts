/**
 * containing(): a finer downstream partition reads the one coarser upstream partition whose window
 * contains it (fan-out: each hourly partition reads its day).
 */
import type { TimeWindowPartitions } from '../partitions/types.js';
import { alignedMapping } from './aligned.js';
import { cadenceSuggestion, compareCadence, nestingProblem, notNested } from './shared.js';
import type { PartitionMapping } from './types.js';

function containingKeys(key: string, down: TimeWindowPartitions, up: TimeWindowPartitions): string[] {
  const { start, end } = down.window(key);
  if (start < up.start) {
    if (end > up.start) throw notNested(key, down, up);
    return []; // before the upstream's first partition
  }
  const k = up.keyAt(start);
  if (up.window(k).end < end) throw notNested(key, down, up);
  return [k];
}

/** Finer downstream ← coarser upstream, e.g. hourly ← daily, daily ← monthly. */
export function containing(): PartitionMapping {
  return alignedMapping('daily_to_hourly', {
    name: 'containing()',
    timeOnly: true,
    problem(down, up) {
      const from = `containing() mapping from ${down.cadence} asset to ${up.cadence} upstream`;
      const order = compareCadence(down.cadence, up.cadence);
      if (order === 0)
        return `${from}: containing() reads a coarser upstream, and both are ${down.cadence}; use identity()`;
      if (order > 0) return `${from}: the upstream is finer; use ${cadenceSuggestion(down, up)}`;
      const nest = nestingProblem(down, up);
      return nest === undefined ? undefined : `${from}: ${nest}`;
    },
    keys: containingKeys,
  });
}

/** The common case under its everyday name. */
export const dailyToHourly = containing;
