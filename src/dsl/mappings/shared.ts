/** Plumbing shared by the mappings: validation wrapper, wording, time bounds and nesting rules. */
import type { DateTime } from 'luxon';
import { PartitionError } from '../errors.js';
import { combineKeys } from '../partitions/multi.js';
import {
  UNPARTITIONED,
  type PartitionsDefinition,
  type TimeCadence,
  type TimeWindowPartitions,
} from '../partitions/types.js';
import type { MappingContext, PartitionMapping } from './types.js';

type Def = PartitionsDefinition | undefined;

export interface MappingSpec {
  readonly type: PartitionMapping['type'];
  readonly fingerprint: string;
  incompatibility(downstream: Def, upstream: Def): string | undefined;
  /** Called only with a valid downstream key and compatible definitions. */
  keys(key: string, downstream: Def, upstream: Def, context: MappingContext | undefined): string[];
}

/** Every mapping checks the downstream key and compatibility the same way before computing keys. */
export function defineMapping(spec: MappingSpec): PartitionMapping {
  return {
    type: spec.type,
    fingerprint: spec.fingerprint,
    incompatibility: (downstream, upstream) => spec.incompatibility(downstream, upstream),
    upstreamKeys(key, downstream, upstream, context) {
      if (downstream === undefined) {
        if (key !== UNPARTITIONED) {
          throw new PartitionError(
            `${spec.fingerprint}: the asset is unpartitioned, so its only key is '' (UNPARTITIONED), not '${key}'`,
            { key },
          );
        }
      } else {
        downstream.assertHas(key);
      }
      const problem = spec.incompatibility(downstream, upstream);
      if (problem !== undefined) throw new PartitionError(problem, { key, definition: spec.fingerprint });
      return spec.keys(key, downstream, upstream, context);
    },
  };
}

/** "daily asset", "hourly upstream", "unpartitioned asset", "multi (date, platform) upstream". */
export function describe(p: Def, role: 'asset' | 'upstream'): string {
  if (p === undefined) return `unpartitioned ${role}`;
  if (p.type === 'time') return `${p.cadence} ${role}`;
  if (p.type === 'static') return `static ${role}`;
  return `multi (${p.dimensions.map((d) => d.name).join(', ')}) ${role}`;
}

const RANK: Record<TimeCadence, number> = { hourly: 0, daily: 1, weekly: 2, monthly: 3 };

/** Negative when `a` is finer than `b`. */
export const compareCadence = (a: TimeCadence, b: TimeCadence): number => RANK[a] - RANK[b];

/** The mapping to suggest between two time definitions of different cadences. */
export function cadenceSuggestion(down: TimeWindowPartitions, up: TimeWindowPartitions): string {
  if (compareCadence(up.cadence, down.cadence) < 0) {
    return up.cadence === 'hourly' && down.cadence === 'daily' ? 'hourlyToDaily() (rollup)' : 'rollup()';
  }
  return up.cadence === 'daily' && down.cadence === 'hourly'
    ? 'dailyToHourly() (containing)'
    : 'containing()';
}

/**
 * Why windows of `fine` do not tile windows of `coarse` exactly, or undefined when they do.
 * Same timezone: everything nests except weeks in months. Different timezones: only hourly
 * windows can nest, when both hour grids line up (e.g. UTC hours in New York days).
 */
export function nestingProblem(fine: TimeWindowPartitions, coarse: TimeWindowPartitions): string | undefined {
  if (fine.cadence === 'weekly' && coarse.cadence === 'monthly') {
    return 'weeks do not nest in months (a week can span two months): use daily partitions on one side, or allUpstream()';
  }
  if (fine.timezone === coarse.timezone) return undefined;
  if (fine.cadence === 'hourly' && Number.isInteger(coarse.start.diff(fine.start, 'hours').hours))
    return undefined;
  return `${fine.cadence} windows in ${fine.timezone} do not nest in ${coarse.cadence} windows in ${coarse.timezone}: give both the same timezone`;
}

/** Guard for timezones whose hour grids line up at the start but drift later (rare history). */
export function notNested(key: string, down: TimeWindowPartitions, up: TimeWindowPartitions): PartitionError {
  return new PartitionError(
    `partition '${key}' of ${down.fingerprint}: its window does not line up with the windows of ${up.fingerprint}; give both the same timezone`,
    { key, definition: down.fingerprint },
  );
}

/** End of the downstream partition's time window, when it has one (time, or multi with a time dimension). */
export function downstreamWindowEnd(down: Def, key: string): DateTime | undefined {
  if (down?.type === 'time') return down.window(key).end;
  if (down?.type === 'multi' && down.timeDimension) {
    const { name, partitions } = down.timeDimension;
    if (partitions.type === 'time') return partitions.window(down.split(key)[name] ?? '').end;
  }
  return undefined;
}

/** Keys from the first partition to the newest whose window ends at or before `end`. */
function keysEndingBy(up: TimeWindowPartitions, end: DateTime): string[] {
  if (end <= up.start) return [];
  const last = up.indexOf(up.keyAt(end)) - 1; // the window containing `end` has not closed
  return last < 0 ? [] : up.keysInRange({ from: up.firstKey, to: up.shift(up.firstKey, last) });
}

/**
 * Upstream time keys "up to" the downstream partition: bounded by the downstream window end when
 * there is one, else by context.range, else by what exists at context.now; an error otherwise.
 */
export function boundedTimeKeys(
  up: TimeWindowPartitions,
  downEnd: DateTime | undefined,
  context: MappingContext | undefined,
  who: string,
): string[] {
  if (downEnd !== undefined) return keysEndingBy(up, downEnd);
  if (context?.range) return up.keysInRange(context.range);
  if (context?.now) {
    const last = up.lastKey(context.now);
    return last === undefined ? [] : up.keysInRange({ from: up.firstKey, to: last });
  }
  throw new PartitionError(
    `${who}: the asset partition has no time window to bound the ${up.cadence} upstream ${up.fingerprint}; pass context.range (upstream keys) or context.now`,
    { definition: who },
  );
}

/** All keys of a multi upstream whose time dimension (if any) is bounded as in boundedTimeKeys. */
export function boundedMultiKeys(
  up: Extract<PartitionsDefinition, { type: 'multi' }>,
  fixed: Readonly<Record<string, readonly string[]>>,
  downEnd: DateTime | undefined,
  context: MappingContext | undefined,
  who: string,
): string[] {
  const keys: Record<string, readonly string[]> = {};
  for (const { name, partitions } of up.dimensions) {
    keys[name] =
      fixed[name] ??
      (partitions.type === 'time' ? boundedTimeKeys(partitions, downEnd, context, who) : partitions.values);
  }
  return combineKeys(up, keys);
}
