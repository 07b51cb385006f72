import { DateTime } from 'luxon';
import type { PartitionsDefinition } from '../dsl/partitions/types.js';

/**
 * The batch a partition runs (and is locked) with, or undefined to run alone:
 * - partitions of assets a source loader lands (`week`): the ISO week of their time key (`2026-11-24T13` →
 *   `2026-W48`). The worker lands one source at a time anyway, so the coarse lock costs little, and progress
 *   still moves a week at a time;
 * - hourly partitions: their day (`2026-11-24T13` → `2026-11-24`);
 * - multi partitions with a time dimension: the time key's day (`2026-11-24|google` → `2026-11-24`).
 * Time keys start with their local date, so these are prefixes. Every trigger derives the same batch from the
 * same definitions, which keeps the batch id a lock.
 */
export function batchOf(
  p: PartitionsDefinition | undefined,
  partitionKey: string,
  opts: { week?: boolean } = {},
): string | undefined {
  if (p === undefined) return undefined;
  const timeKey =
    p.type === 'time'
      ? partitionKey
      : p.type === 'multi' && p.timeDimension?.partitions.type === 'time'
        ? p.split(partitionKey)[p.timeDimension.name]
        : undefined;
  if (timeKey === undefined || !/^\d{4}-\d{2}/.test(timeKey)) return undefined;
  if (opts.week) {
    const day = DateTime.fromISO(timeKey.slice(0, 10), { zone: 'utc' });
    return day.isValid ? day.toFormat("kkkk-'W'WW") : undefined;
  }
  if (p.type === 'multi') return timeKey.slice(0, 10);
  return p.type === 'time' && p.cadence === 'hourly' ? timeKey.slice(0, 10) : undefined;
}
