import { DateTime } from 'luxon';
import { PartitionError } from '../dsl/errors.js';
import type { PartitionRange, PartitionsDefinition, TimeWindowPartitions } from '../dsl/partitions/types.js';
import { UNPARTITIONED } from '../dsl/partitions/types.js';

/** The time dimension of a partitions definition, if it has one. */
export function timeDimensionOf(p: PartitionsDefinition | undefined): TimeWindowPartitions | undefined {
  if (p === undefined) return undefined;
  if (p.type === 'time') return p;
  if (p.type === 'multi') {
    const t = p.timeDimension?.partitions;
    return t?.type === 'time' ? t : undefined;
  }
  return undefined;
}

/** Parses a range bound written as a partition key of any cadence (2026-11-24, 2026-11-24T13, 2026-11). */
export function boundInstant(bound: string, zone: string, edge: 'start' | 'end'): DateTime {
  const hourly = /^(\d{4}-\d{2}-\d{2})T(\d{2})$/.exec(bound);
  const text = hourly ? `${hourly[1]}T${hourly[2]}:00` : bound;
  const dt = DateTime.fromISO(text, { zone });
  if (!dt.isValid)
    throw new PartitionError(`range bound "${bound}" is not a date (use 2026-11-24)`, { key: bound });
  if (edge === 'start') return dt;
  const unit = hourly ? 'hour' : /^\d{4}-\d{2}$/.test(bound) ? 'month' : /T/.test(bound) ? 'hour' : 'day';
  return dt.plus({ [unit]: 1 }).minus({ milliseconds: 1 });
}

/**
 * The keys of one asset's time dimension whose windows lie inside a range. Bounds may be keys of another
 * cadence: a daily range over an hourly asset covers every hour of those days, while an hour names no daily
 * partition (its day is not inside it). The range is clamped to the asset's start.
 */
export function timeRangeFor(t: TimeWindowPartitions, range: PartitionRange): PartitionRange | undefined {
  const from = t.has(range.from) ? t.window(range.from).start : boundInstant(range.from, t.timezone, 'start');
  const end = t.has(range.to)
    ? t.window(range.to).end
    : boundInstant(range.to, t.timezone, 'end').plus({ milliseconds: 1 });
  if (from >= end)
    throw new PartitionError(`reversed range: ${range.from} is after ${range.to}`, { key: range.from });
  const start = from < t.start ? t.start : from;
  if (end <= start) return undefined;
  let first = t.keyAt(start);
  if (t.window(first).start < start) first = t.shift(first, 1);
  let last = t.keyAt(end.minus({ milliseconds: 1 }));
  if (t.window(last).end > end) {
    if (t.window(last).start <= t.start) return undefined;
    last = t.shift(last, -1);
  }
  return t.window(first).start > t.window(last).start ? undefined : { from: first, to: last };
}

/** Every partition key of one asset that a request covers; UNPARTITIONED for unpartitioned assets. */
export function partitionKeysFor(
  p: PartitionsDefinition | undefined,
  range: PartitionRange | undefined,
  explicitKeys: readonly string[] | undefined,
): string[] {
  if (p === undefined) return [UNPARTITIONED];
  if (explicitKeys !== undefined) {
    const keys = new Set<string>();
    for (const k of explicitKeys) {
      if (p.has(k)) keys.add(k);
      else {
        // A time key names every partition of the asset inside that time window (e.g. all platforms of a day).
        const t = timeDimensionOf(p);
        if (t !== undefined) {
          const r = timeRangeFor(t, { from: k, to: k });
          if (r !== undefined) for (const key of p.keysInRange(r)) keys.add(key);
        }
      }
    }
    return [...keys].sort();
  }
  const t = timeDimensionOf(p);
  if (t === undefined) return p.keysInRange({ from: '', to: '' });
  if (range === undefined) {
    throw new PartitionError(
      `a partition range is needed for time-partitioned assets (${p.fingerprint}); pass --from/--to or --partition`,
    );
  }
  const r = timeRangeFor(t, range);
  return r === undefined ? [] : p.keysInRange(r);
}

/**
 * Where a request ends in time: the end of its range or of its latest partition key (UTC). Unpartitioned assets
 * over time partitions read every upstream partition that has closed by then.
 */
export function requestEnd(
  range: PartitionRange | undefined,
  keys: readonly string[] | undefined,
): DateTime | undefined {
  const bounds = range ? [range.to] : (keys ?? []).map((k) => k.split('|')[0] ?? k);
  const ends = bounds
    .filter((b) => /^\d{4}-\d{2}/.test(b))
    .map((b) => boundInstant(b.replace(/\+1$/, ''), 'utc', 'end').plus({ milliseconds: 1 }));
  return ends.length === 0 ? undefined : DateTime.max(...ends);
}
