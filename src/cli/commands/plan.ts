import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { assetEngineResolver } from '../../config/index.js';
import type { Definitions } from '../../dsl/index.js';
import { createEngine } from '../../engines/registry.js';
import { SqlEngine } from '../../engines/core/sql-engine.js';
import type { Engine } from '../../engines/types.js';
import { partitionKeysFor, plan, timeDimensionOf, type Plan, type PlanRequest } from '../../planner/index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';
import { estimatePlanCost, formatBytes, overBudget, parseBytes, type PlanCost } from '../plan-cost.js';

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

export function printPlan(p: Plan, json: boolean, cost?: PlanCost): void {
  if (json) {
    printJson(cost ? { ...p, cost } : p);
    return;
  }
  const byReason = new Map<string, number>();
  for (const s of p.steps) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  const bytesOf = new Map(cost?.steps.map((c) => [c.step, c]));
  const shown = p.steps.slice(0, 50).map((s) => {
    const c = bytesOf.get(s.id);
    return {
      step: s.id,
      reason: s.reason,
      waits_for: s.upstream.length,
      ...(cost ? { scans: c?.bytes == null ? (c?.note ?? '') : formatBytes(c.bytes) } : {}),
    };
  });
  printTable(shown);
  if (p.steps.length > shown.length)
    process.stdout.write(`... and ${p.steps.length - shown.length} more steps\n`);
  const reasons = [...byReason].map(([r, n]) => `${n} ${r}`).join(', ');
  process.stdout.write(
    `${p.steps.length} steps (${reasons || 'nothing to do'}); ${p.skippedFresh} fresh skipped\n`,
  );
  if (cost) {
    const unknown = cost.unknown > 0 ? ` (+ ${cost.unknown} step(s) without an estimate)` : '';
    process.stdout.write(
      `would scan ${formatBytes(cost.totalBytes)} (${cost.totalBytes} bytes, BigQuery dry runs)${unknown}\n`,
    );
  }
}

/**
 * Dry-run estimates of a plan's steps, when an engine in config can dry-run (BigQuery); undefined otherwise.
 * Only those engines are opened (a DuckDB warehouse belongs to the worker).
 */
export async function planCostFor(ctx: CliContext, p: Plan): Promise<PlanCost | undefined> {
  const config = ctx.config;
  if (!Object.values(config.engines).some((e) => e.type === 'bigquery')) return undefined;
  const defs = await ctx.definitions();
  const opened = new Map<string, Promise<Engine | undefined>>();
  try {
    return await estimatePlanCost(defs, p, {
      engineName: assetEngineResolver(config, defs),
      open: async (name) => {
        const engineConfig = config.engines[name];
        if (engineConfig?.type !== 'bigquery') return undefined;
        let engine = opened.get(name);
        if (!engine) {
          engine = createEngine(engineConfig);
          opened.set(name, engine);
        }
        const e = await engine;
        return e instanceof SqlEngine ? { engine: e, dialect: e.dialect } : undefined;
      },
    });
  } finally {
    for (const e of opened.values()) await (await e.catch(() => undefined))?.close();
  }
}

/** `--max-bytes` as bytes (a UsageError names a malformed size). */
export function maxBytesOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseBytes(text);
  if (bytes === undefined)
    throw new UsageError(`--max-bytes "${text}" is not a size like 500MB, 10GB or 1000000`);
  return bytes;
}

/** Thrown when a plan's dry-run estimate is over `--max-bytes`: nothing runs (exit code 1). */
export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
}

/** Refuses a plan whose estimate exceeds the budget. */
export function enforceBudget(cost: PlanCost | undefined, maxBytes: number | undefined): void {
  if (maxBytes === undefined || !cost) return;
  const refusal = overBudget(cost, maxBytes);
  if (refusal) throw new BudgetExceededError(refusal);
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
    .option('--max-bytes <size>', 'refuse (exit 1) when the BigQuery dry runs add up to more, e.g. 10GB')
    .action(async (opts: RangeOptions & { select: string; force?: boolean; maxBytes?: string }) => {
      const maxBytes = maxBytesOption(opts.maxBytes);
      const p = await planFor(ctx(), planRequestFrom(opts.select, opts));
      const cost = await planCostFor(ctx(), p);
      printPlan(p, ctx().json, cost);
      enforceBudget(cost, maxBytes);
    });
}
