import { partitionFacts } from '../activities/step-context.js';
import { buildTable } from '../activities/tables.js';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import { canDryRun } from '../engines/bigquery/bigquery-engine.js';
import type { SqlDialect } from '../engines/dialect/dialect.js';
import { renderTemplate } from '../engines/dialect/template.js';
import type { Engine } from '../engines/types.js';
import type { Plan } from '../planner/index.js';

/**
 * Cost before it is spent: the bytes each step of a plan would scan on an engine that can say so without
 * running anything (BigQuery's dry run, which is free), summed, and checked against a budget.
 *
 * A step's SQL is the select its materialization would run (the asset's SQL with the partition's
 * placeholders, the as-of select of a snapshot, the change log an SCD2 merge reads). Steps whose SQL is
 * only known while they run (ingestion, compute functions) and steps on engines without dry runs have no
 * estimate; a dry run that fails (typically: an upstream table that this very plan creates first) says why.
 */

export interface StepCost {
  readonly step: string;
  readonly engine: string;
  /** Bytes the step would scan; null when unknown (see `note`). */
  readonly bytes: number | null;
  readonly note?: string;
}

export interface PlanCost {
  readonly steps: readonly StepCost[];
  /** Sum of the known estimates. */
  readonly totalBytes: number;
  /** Steps on a dry-running engine whose estimate is unknown. */
  readonly unknown: number;
}

export interface CostEngines {
  /** Engine name an asset runs on. */
  engineName(asset: AssetDefinition): string;
  /** The opened engine, or undefined when it cannot dry-run (it is then not opened at all). */
  open(name: string): Promise<{ engine: Engine; dialect: SqlDialect } | undefined>;
}

export async function estimatePlanCost(
  defs: Definitions,
  plan: Plan,
  engines: CostEngines,
): Promise<PlanCost> {
  const steps: StepCost[] = [];
  let totalBytes = 0;
  let unknown = 0;
  for (const step of plan.steps) {
    const asset = defs.asset(step.assetKey);
    const name = engines.engineName(asset);
    const opened = await engines.open(name);
    if (!opened || !canDryRun(opened.engine)) {
      steps.push({ step: step.id, engine: name, bytes: null, note: 'engine has no dry run' });
      continue;
    }
    const sql = stepSql(defs, asset, step.partitionKey, opened.engine, opened.dialect);
    if (sql === undefined) {
      unknown++;
      steps.push({ step: step.id, engine: name, bytes: null, note: 'SQL is decided while the step runs' });
      continue;
    }
    try {
      const bytes = await opened.engine.dryRunBytes(sql);
      totalBytes += bytes;
      steps.push({ step: step.id, engine: name, bytes });
    } catch (e) {
      unknown++;
      const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
      steps.push({ step: step.id, engine: name, bytes: null, note: `dry run failed: ${reason}` });
    }
  }
  return { steps, totalBytes, unknown };
}

/** The select the step's materialization would run, or undefined when it is only known at run time. */
function stepSql(
  defs: Definitions,
  asset: AssetDefinition,
  partitionKey: string,
  engine: Engine,
  dialect: SqlDialect,
): string | undefined {
  if (asset.ingest || asset.compute) return undefined;
  const facts = partitionFacts(asset.partitions, partitionKey);
  switch (asset.kind) {
    case 'scd2': {
      const source = asset.scd2?.source;
      return source ? `SELECT * FROM ${dialect.table(buildTable(defs.asset(source)))}` : undefined;
    }
    case 'snapshot': {
      const from = asset.snapshot?.from;
      if (!from || !facts.window) return undefined;
      return engine.snapshotAsOfSql({ scd2Table: buildTable(defs.asset(from)), asOf: facts.window.end });
    }
    default:
      if (!asset.sql) return undefined;
      return renderTemplate(dialect, asset.sql, {
        partitionKey: facts.partitionKey,
        ...(facts.window ? { partitionStart: facts.window.start, partitionEnd: facts.window.end } : {}),
        ...(facts.dimensions ? { partition: facts.dimensions } : {}),
      });
  }
}

const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** `1000`, `500MB`, `1.5 GiB`, `2TB` → bytes; undefined when the text is not a size. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[(m[2] ?? 'B').toUpperCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** Bytes for people: `0 B`, `12.3 MB`, `1.20 GB` (decimal units, as BigQuery bills). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return i === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[i] ?? ''}`;
}

/** The refusal of a plan over its budget, or undefined when it fits (unknown estimates do not count). */
export function overBudget(cost: PlanCost, maxBytes: number): string | undefined {
  if (cost.totalBytes <= maxBytes) return undefined;
  return (
    `the plan would scan ${formatBytes(cost.totalBytes)} (${cost.totalBytes} bytes), over the budget of ` +
    `${formatBytes(maxBytes)} (${maxBytes} bytes) given by --max-bytes; nothing was run`
  );
}
