import { DateTime } from 'luxon';
import type { Definitions } from '../dsl/index.js';
import type { Ledger } from '../ledger/index.js';
import { partitionKeysFor, timeDimensionOf } from '../planner/index.js';
import type { FreshnessBreach, FreshnessInput } from './types.js';

/**
 * Freshness of the selection's time-partitioned assets that declare `freshness: { maxLagMinutes }`: the newest
 * partition whose window ended at least maxLagMinutes before `asOf` must have a successful materialization, or
 * it is a breach (every static slice of a multi partition counts). Older partitions were due at earlier checks;
 * unpartitioned assets have no window to be late against and are not checked.
 */
export async function freshnessBreaches(
  deps: { definitions: Definitions; ledger: Ledger },
  input: FreshnessInput,
): Promise<FreshnessBreach[]> {
  const asOf = DateTime.fromISO(input.asOf, { zone: 'utc' });
  if (!asOf.isValid) throw new Error(`freshness check time "${input.asOf}" is not an ISO instant`);
  const assets = deps.definitions
    .select(input.selection)
    .map((k) => deps.definitions.asset(k))
    .filter((a) => a.freshness !== undefined && timeDimensionOf(a.partitions) !== undefined);
  if (assets.length === 0) return [];
  const view = await deps.ledger.view(assets.map((a) => a.key));
  const breaches: FreshnessBreach[] = [];
  for (const asset of assets) {
    const maxLag = asset.freshness?.maxLagMinutes ?? 0;
    const time = timeDimensionOf(asset.partitions);
    const due = time?.lastKey(asOf.minus({ minutes: maxLag }));
    if (time === undefined || due === undefined) continue;
    for (const partitionKey of partitionKeysFor(asset.partitions, undefined, [due])) {
      const latest = view.latest(asset.key, partitionKey);
      if (view.latestSuccess(asset.key, partitionKey) !== undefined) continue;
      const end = time.window(due).end.toUTC().toISO() ?? '';
      const state = latest
        ? `its last attempt failed: ${latest.error ?? 'unknown error'}`
        : 'never materialized';
      breaches.push({
        assetKey: asset.key,
        partitionKey,
        error: `not materialized ${maxLag} min after its window ended (${end}); ${state}`,
      });
    }
  }
  return breaches;
}
