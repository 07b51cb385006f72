/**
 * Partition definitions: how an asset is sliced into independently materialized keys.
 * One concept per file: time.ts (hourly/daily/weekly/monthly, DST design in time-grid.ts),
 * static.ts, multi.ts. Pure: imports only luxon, zod and ../errors.js.
 */
export * from './types.js';
export { hourly, daily, weekly, monthly, type TimePartitionsOptions } from './time.js';
export { staticPartitions } from './static.js';
export { multiPartitions, combineKeys, KEY_SEPARATOR } from './multi.js';

import type { PartitionsDefinition, TimeWindowPartitions } from './types.js';

/** Narrowing helper: true for hourly/daily/weekly/monthly partitions. */
export function isTimePartitions(p: PartitionsDefinition | undefined): p is TimeWindowPartitions {
  return p?.type === 'time';
}
