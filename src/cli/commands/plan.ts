import type { Command } from 'commander';
import { DateTime } from 'luxon';
import type { Definitions } from '../../dsl/index.js';
import { partitionKeysFor, plan, timeDimensionOf, type Plan, type PlanRequest } from '../../planner/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';

export interface RangeOptions {
  readonly partition?: string;
  readonly from?: string;
  readonly to?: string;
}

const DATE = /^\d{4}-\d{2}(-\d{2}(T\d{2})?)?$/;

/** --partition P | --from D1 --to D2, checked for shape and order (the planner checks ranges per asset). */
export function planRequestFrom(selection: string, o: RangeOptions & { force?: boolean }): PlanRequest {
  for (const [flag, v] of [
    ['--from', o.from],
    ['--to', o.to],
  ] as const) {
    if (v !== undefined && (!DATE.test(v) || !DateTime.fromISO(v.length === 13 ? `${v}:00` : v).isValid))
      throw new UsageError(`${flag} "${v}" is not a date like 2026-11-24 (or an hour like 2026-11-24T13)`);
  }
  if (o.partition !== undefined && (o.from !== undefined || o.to !== undefined)) {
    throw new UsageError('give either --partition or --from/--to, not both');
  }
  if ((o.from === undefined) !== (o.to === undefined)) throw new UsageError('--from and --to go together');
  if (o.from !== undefined && o.to !== undefined && o.from > o.to) {
    throw new UsageError(`--from ${o.from} is after --to ${o.to} (reversed range)`);
  }
  return {
    selection,
    ...(o.partition !== undefined ? { partitionKeys: [o.partition] } : {}),
    ...(o.from !== undefined && o.to !== undefined ? { range: { from: o.from, to: o.to } } : {}),
    ...(o.force ? { force: true } : {}),
  };
}

/**
 * A --partition or --from/--to that names no partition of any selected asset is a mistake, not an empty plan:
 * the error names the first valid key (or the nearest one, from the DSL's PartitionError).
 */
export function assertCovers(defs: Definitions, keys: readonly string[], request: PlanRequest): void {
  const partitioned = keys.map((k) => defs.asset(k)).filter((a) => a.partitions !== undefined);
  const [first] = partitioned;
  if (!first?.partitions) return;
  for (const pk of request.partitionKeys ?? []) {
    if (partitioned.some((a) => partitionKeysFor(a.partitions, undefined, [pk]).length > 0)) continue;
    first.partitions.assertHas(pk); // throws a PartitionError with the nearest valid key
    throw new UsageError(`--partition ${pk} names no partition of the selected assets`);
  }
  const range = request.range;
  if (range && !partitioned.some((a) => partitionKeysFor(a.partitions, range, undefined).length > 0)) {
    const firstKeys = partitioned
      .map((a) => timeDimensionOf(a.partitions)?.firstKey)
      .filter((k): k is string => k !== undefined)
      .sort();
    throw new UsageError(
      `--from ${range.from} --to ${range.to} covers no partition of the selected assets${firstKeys[0] ? `; the first one is ${firstKeys[0]}` : ''}`,
    );
  }
}

export async function planFor(ctx: CliContext, request: PlanRequest): Promise<Plan> {
  const defs = await ctx.definitions();
  const keys = defs.select(request.selection);
  assertCovers(defs, keys, request);
  const ledger = await ctx.ledger();
  return plan(defs, request, await ledger.view(keys));
}

export function printPlan(p: Plan, json: boolean): void {
  if (json) {
    printJson(p);
    return;
  }
  const byReason = new Map<string, number>();
  for (const s of p.steps) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  const shown = p.steps
    .slice(0, 50)
    .map((s) => ({ step: s.id, reason: s.reason, waits_for: s.upstream.length }));
  printTable(shown);
  if (p.steps.length > shown.length)
    process.stdout.write(`... and ${p.steps.length - shown.length} more steps\n`);
  const reasons = [...byReason].map(([r, n]) => `${n} ${r}`).join(', ');
  process.stdout.write(
    `${p.steps.length} steps (${reasons || 'nothing to do'}); ${p.skippedFresh} fresh skipped\n`,
  );
}

export function registerPlan(program: Command, ctx: () => CliContext): void {
  program
    .command('plan')
    .description('what would run and why (missing, failed, code changed, upstream changed), without running')
    .requiredOption('-s, --select <selection>', 'asset selection')
    .option('--partition <key>', 'one partition')
    .option('--from <date>', 'first partition (inclusive)')
    .option('--to <date>', 'last partition (inclusive)')
    .option('--force', 'plan fresh partitions too')
    .action(async (opts: RangeOptions & { select: string; force?: boolean }) => {
      const p = await planFor(ctx(), planRequestFrom(opts.select, opts));
      printPlan(p, ctx().json);
    });
}
