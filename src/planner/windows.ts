import type { PartitionRange } from '../dsl/partitions/types.js';
import type { Plan, PlanReason, PlanStep } from './types.js';

/**
 * Backfills plan and run a long range one window of days at a time: a whole year of the catalog is ~26,000 steps,
 * far over what one Temporal payload may carry, and a window's plan sees the ledger as the earlier windows left
 * it. Pure: plain calendar arithmetic on `YYYY-MM-DD` bounds; other bounds (hours, months) stay one window.
 */
export function splitRange(range: PartitionRange, days: number): PartitionRange[] {
  const date = /^(\d{4})-(\d{2})-(\d{2})$/;
  const a = date.exec(range.from);
  const b = date.exec(range.to);
  if (!a || !b || !Number.isInteger(days) || days < 1) return [range];
  const dayMs = 86_400_000;
  const from = Date.UTC(Number(a[1]), Number(a[2]) - 1, Number(a[3]));
  const to = Date.UTC(Number(b[1]), Number(b[2]) - 1, Number(b[3]));
  if (to < from) return [range];
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const windows: PartitionRange[] = [];
  for (let start = from; start <= to; start += days * dayMs) {
    windows.push({ from: iso(start), to: iso(Math.min(to, start + (days - 1) * dayMs)) });
  }
  return windows;
}

/** Which steps of the planned range a backfill runs. */
export type BackfillOnly =
  /** Never successfully materialized (planner reasons `missing`, `failed_before`). */
  | 'missing'
  /** Last attempt failed (`failed_before`). */
  | 'failed'
  /** Every partition in range, fresh or not (planned with force). */
  | 'all';

const REASONS: Record<BackfillOnly, readonly PlanReason[] | 'all'> = {
  all: 'all',
  missing: ['missing', 'failed_before'],
  failed: ['failed_before'],
};

/**
 * The steps of a plan a backfill runs: those its `only` names, and every planned step downstream of one of them
 * (rebuilding an upstream partition makes its readers stale, and leaving them would break consistency). Upstream
 * ids of dropped steps then count as satisfied. Plans are topologically ordered, so one pass suffices.
 */
export function filterPlan(plan: Plan, only: BackfillOnly): PlanStep[] {
  const reasons = REASONS[only];
  if (reasons === 'all') return [...plan.steps];
  const kept = new Set<string>();
  return plan.steps.filter((s) => {
    const keep = reasons.includes(s.reason) || s.upstream.some((u) => kept.has(u));
    if (keep) kept.add(s.id);
    return keep;
  });
}
