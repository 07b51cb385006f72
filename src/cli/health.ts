/**
 * Partition health, as `tessera status` draws it and the UI colours it: per asset and partition, the latest
 * attempt failed (failed), the planner would rebuild it (stale), it was never built (missing), or fresh.
 */
import type { Definitions } from '../dsl/index.js';
import { QUARANTINED_CHECK } from '../activities/materialize.js';
import type { Ledger } from '../ledger/index.js';
import { partitionKeysFor, plan } from '../planner/index.js';
import { assertCovers, planRequestFrom } from './commands/plan.js';

export type Health = 'fresh' | 'stale' | 'failed' | 'missing';

export interface HealthRow {
  readonly key: string;
  readonly counts: Record<Health, number>;
  /** Partition key → health, in partition order (an unpartitioned asset has one cell, key ''). */
  readonly cells: Record<string, Health>;
  /** Inputs the latest ingest pass of each partition set aside in raw.quarantine (0 when none did). */
  readonly quarantined: number;
}

/** Health of every partition of the selected assets between `from` and `to` (dates, inclusive). */
export async function partitionHealth(
  defs: Definitions,
  ledger: Ledger,
  selection: string,
  range: { readonly from: string; readonly to: string },
): Promise<HealthRow[]> {
  const keys = defs.select(selection);
  const request = planRequestFrom(selection, range);
  assertCovers(defs, keys, request);
  const view = await ledger.view(keys);
  const stale = new Set(plan(defs, request, view).steps.map((s) => s.id));
  const rows: HealthRow[] = [];
  for (const key of keys) {
    const cells: Record<string, Health> = {};
    let quarantined = 0;
    for (const pk of partitionKeysFor(defs.asset(key).partitions, request.range, undefined)) {
      const latest = view.latest(key, pk);
      // Only ingested assets record the quarantine check; their latest attempt's count is what stands.
      if (latest && defs.asset(key).ingest)
        for (const c of await ledger.checkResults(key, pk, latest.runId))
          if (c.checkName === QUARANTINED_CHECK) quarantined += c.failingRows;
      cells[pk] = !latest
        ? 'missing'
        : latest.status === 'failed'
          ? 'failed'
          : stale.has(`${key}@${pk}`)
            ? 'stale'
            : 'fresh';
    }
    const counts = { fresh: 0, stale: 0, failed: 0, missing: 0 };
    for (const h of Object.values(cells)) counts[h]++;
    rows.push({ key, counts, cells, quarantined });
  }
  return rows;
}
