import type { Command } from 'commander';
import { plan, type Plan, type PlanRequest } from '../../planner/index.js';
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
    if (v !== undefined && !DATE.test(v))
      throw new UsageError(`${flag} "${v}" is not a date like 2026-11-24`);
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

export async function planFor(ctx: CliContext, request: PlanRequest): Promise<Plan> {
  const defs = await ctx.definitions();
  const keys = defs.select(request.selection);
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
      printPlan(p, ctx().options.json ?? false);
    });
}
