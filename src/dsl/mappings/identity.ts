/** identity(): each partition reads the upstream partition with the same key. */
import type { TimeWindowPartitions } from '../partitions/types.js';
import { alignedMapping } from './aligned.js';
import { cadenceSuggestion, compareCadence, nestingProblem } from './shared.js';
import type { PartitionMapping } from './types.js';

/**
 * Why two time definitions cannot be read key-for-key (shared with lookback): the cadence and
 * timezone must match; different starts are fine (keys before the upstream's start are omitted).
 */
export function sameGridProblem(
  name: string,
  down: TimeWindowPartitions,
  up: TimeWindowPartitions,
): string | undefined {
  const from = `${name} mapping from ${down.cadence} asset to ${up.cadence} upstream`;
  if (down.cadence !== up.cadence) {
    const finer = compareCadence(down.cadence, up.cadence) < 0;
    const nest = finer ? nestingProblem(down, up) : nestingProblem(up, down);
    return `${from}: ${nest ?? `use ${cadenceSuggestion(down, up)}`}`;
  }
  if (down.timezone !== up.timezone) {
    return `${name} mapping between ${down.cadence} partitions in different timezones (asset: ${down.timezone}, upstream: ${up.timezone}): give both the same timezone`;
  }
  return undefined;
}

export function identity(): PartitionMapping {
  return alignedMapping('identity', {
    name: 'identity()',
    timeOnly: false,
    problem: (down, up) => sameGridProblem('identity', down, up),
    keys: (key, _down, up) => (up.has(key) ? [key] : []),
  });
}
