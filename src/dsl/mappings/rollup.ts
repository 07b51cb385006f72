/**
 * rollup(): a coarser downstream partition reads every finer upstream partition inside its window
 * (hourly → daily reads 23, 24 or 25 hours; daily → weekly reads 7 days).
 */
import type { DateTime } from 'luxon';
import type { TimeWindowPartitions } from '../partitions/types.js';
import { alignedMapping } from './aligned.js';
import { cadenceSuggestion, compareCadence, nestingProblem, notNested } from './shared.js';
import type { PartitionMapping } from './types.js';

const same = (a: DateTime, b: DateTime): boolean => a.toMillis() === b.toMillis();

function rollupKeys(key: string, down: TimeWindowPartitions, up: TimeWindowPartitions): string[] {
  const { start, end } = down.window(key);
  if (end <= up.start) return [];
  // Omit upstream keys before its start: begin at whichever starts later.
  const from = start < up.start ? up.start : start;
  const keys: string[] = [];
  let k = up.keyAt(from);
  if (!same(up.window(k).start, from)) throw notNested(key, down, up);
  for (;;) {
    keys.push(k);
    const w = up.window(k);
    if (w.end >= end) {
      if (!same(w.end, end)) throw notNested(key, down, up);
      return keys;
    }
    k = up.shift(k, 1);
  }
}

/** Coarser downstream ← finer upstream, e.g. daily ← hourly, weekly ← daily, monthly ← daily. */
export function rollup(): PartitionMapping {
  return alignedMapping('hourly_to_daily', {
    name: 'rollup()',
    timeOnly: true,
    problem(down, up) {
      const from = `rollup() mapping from ${down.cadence} asset to ${up.cadence} upstream`;
      const order = compareCadence(up.cadence, down.cadence);
      if (order === 0)
        return `${from}: rollup() reads finer upstream partitions, and both are ${down.cadence}; use identity()`;
      if (order > 0) return `${from}: the upstream is coarser; use ${cadenceSuggestion(down, up)}`;
      const nest = nestingProblem(up, down);
      return nest === undefined ? undefined : `${from}: ${nest}`;
    },
    keys: rollupKeys,
  });
}

/** The common case under its everyday name. */
export const hourlyToDaily = rollup;
