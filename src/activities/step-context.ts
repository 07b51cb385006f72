import { DateTime } from 'luxon';
import type { AssetDefinition, PartitionsDefinition } from '../dsl/index.js';
import { UNPARTITIONED } from '../dsl/index.js';
import { timeDimensionOf } from '../planner/index.js';

/** The time window and dimension values of one partition, as ISO-8601 UTC strings for engines and loaders. */
export interface PartitionFacts {
  readonly partitionKey: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly dimensions?: Readonly<Record<string, string>>;
}

const iso = (d: DateTime): string => d.toUTC().toISO() ?? '';

export function partitionFacts(p: PartitionsDefinition | undefined, partitionKey: string): PartitionFacts {
  if (p === undefined || partitionKey === UNPARTITIONED) return { partitionKey };
  p.assertHas(partitionKey);
  const dimensions = p.type === 'multi' ? p.split(partitionKey) : undefined;
  const t = timeDimensionOf(p);
  const timeKey = p.type === 'multi' && p.timeDimension ? dimensions?.[p.timeDimension.name] : partitionKey;
  const window = t && timeKey !== undefined ? t.window(timeKey) : undefined;
  return {
    partitionKey,
    ...(window ? { window: { start: iso(window.start), end: iso(window.end) } } : {}),
    ...(dimensions ? { dimensions } : {}),
  };
}

/**
 * The instant a daily snapshot is cut at: the last microsecond of its window, so a change committed exactly at
 * midnight belongs to the next day (engines compare valid_from <= asOf < valid_to).
 */
export function snapshotInstant(windowEnd: string): string {
  const last = DateTime.fromISO(windowEnd, { zone: 'utc' }).minus({ milliseconds: 1 });
  return (last.toISO() ?? windowEnd).replace(/\.(\d{3})Z$/, '.$1999Z');
}

export const isPartitioned = (a: Pick<AssetDefinition, 'partitions'>): boolean => a.partitions !== undefined;
