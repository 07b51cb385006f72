import { DateTime } from 'luxon';
import type { Definitions } from '../dsl/index.js';
import { timeDimensionOf } from '../planner/index.js';
import type { TickPlan, TickRequestInput } from './types.js';

/**
 * What a schedule tick at `asOf` runs: for every selected asset, its newest closed partition; and for every
 * publish group, the newest closed partition of its marts. Pure given its input, so a retried tick plans alike.
 * The tick's time bounds what unpartitioned assets read of time-partitioned upstreams (`now`): a selection of
 * only unpartitioned assets has no partition keys to bound them otherwise.
 */
export function tickRequest(defs: Definitions, input: TickRequestInput): TickPlan {
  const asOf = DateTime.fromISO(input.asOf, { zone: 'utc' });
  const lastKeyOf = (key: string): string | undefined =>
    timeDimensionOf(defs.asset(key).partitions)?.lastKey(asOf);
  const keys = defs.select(input.selection);
  const partitionKeys = [...new Set(keys.map(lastKeyOf).filter((k): k is string => k !== undefined))].sort();
  const publish = input.publishGroups.flatMap((name) => {
    const group = defs.publishGroups.find((g) => g.name === name);
    const last = group?.assets
      .map(lastKeyOf)
      .filter((k): k is string => k !== undefined)
      .sort()[0];
    return last ? [{ group: name, partitionKey: last }] : [];
  });
  const now = asOf.toISO();
  return { request: { selection: input.selection, partitionKeys, ...(now ? { now } : {}) }, publish };
}
