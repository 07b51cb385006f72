/**
 * Reads of the warehouse's contents: an SCD2 row's versions, an SCD2 table as of an instant (the semantics of
 * `query --as-of`: the engine's snapshot of the table at that instant), and an experiment's published results
 * (the rows `experiments report` prints).
 */
import { asOfInstant } from '../../cli/commands/query.js';
import { RESULTS_MART, reportLines } from '../../cli/commands/experiments.js';
import type { CliContext } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { nearest } from '../../dsl/index.js';
import { SCD2_COLUMNS } from '../../engines/index.js';
import type {
  Cell,
  ExperimentResponse,
  Scd2AssetView,
  Scd2HistoryResponse,
  TableResponse,
} from '../api-types.js';
import { cell, lit, type WarehouseReader } from './warehouse.js';

export interface AnalysisDeps {
  readonly ctx: CliContext;
  readonly warehouse: WarehouseReader;
}

export async function scd2Assets(ctx: CliContext): Promise<Scd2AssetView[]> {
  const defs = await ctx.definitions();
  return defs.graph.topologicalOrder
    .map((k) => defs.asset(k))
    .filter((a) => a.scd2 !== undefined)
    .map((a) => ({ key: a.key, businessKey: a.scd2?.businessKey ?? [], tracked: a.scd2?.tracked ?? [] }))
    .sort((x, y) => x.key.localeCompare(y.key));
}

async function scd2Asset(ctx: CliContext, key: string) {
  const defs = await ctx.definitions();
  const a = defs.graph.topologicalOrder.includes(key) ? defs.asset(key) : undefined;
  if (!a?.scd2) {
    const names = (await scd2Assets(ctx)).map((x) => x.key);
    const hint = nearest(key, names);
    throw new UsageError(`"${key}" is not an SCD2 asset${hint ? `; did you mean "${hint}"?` : ''}`);
  }
  return { asset: a, scd2: a.scd2, names: SCD2_COLUMNS[a.scd2.columnNames ?? 'tessera'] };
}

/** Every version of one business key, oldest first, with the columns that changed at each. */
export async function scd2History(
  deps: AnalysisDeps,
  key: string,
  values: Readonly<Record<string, string>>,
): Promise<Scd2HistoryResponse> {
  const { scd2, names } = await scd2Asset(deps.ctx, key);
  const missing = scd2.businessKey.filter((c) => !values[c]);
  if (missing.length > 0) throw new UsageError(`give a value for ${missing.join(', ')}`);
  const where = scd2.businessKey.map((c) => `cast(${c} as varchar) = ${lit(values[c] ?? '')}`).join(' and ');
  const r = await deps.warehouse.query({
    sql: `select * from ${key} where ${where} order by ${names.validFrom}`,
    limit: 5000,
  });
  const bookkeeping = new Set(
    [
      names.validFrom,
      names.validTo,
      names.isCurrent,
      names.rowHash,
      names.sourceOrder,
      names.scdId,
      names.updatedAt,
    ].filter((c): c is string => c !== null),
  );
  const columns = r.columns.map((c) => c.name);
  let previous: Readonly<Record<string, Cell>> | undefined;
  const versions = r.rows.map((raw) => {
    const row: Record<string, Cell> = {};
    for (const c of columns) row[c] = cell(raw[c]);
    const changed = columns.filter(
      (c) => !bookkeeping.has(c) && (previous === undefined || previous[c] !== row[c]),
    );
    previous = row;
    const validTo = row[names.validTo];
    return {
      validFrom: String(row[names.validFrom]),
      validTo: validTo === null || validTo === undefined ? null : String(validTo),
      row,
      changed,
    };
  });
  return { assetKey: key, businessKey: { ...values }, columns, versions };
}

/** The SCD2 table as it was at `at` (a date = the end of that day, UTC), optionally one business key's row. */
export async function scd2AsOf(
  deps: AnalysisDeps,
  key: string,
  at: string,
  values: Readonly<Record<string, string>>,
  limit: number,
): Promise<TableResponse> {
  const { scd2 } = await scd2Asset(deps.ctx, key);
  const asOf = asOfInstant(at);
  const filters = scd2.businessKey
    .filter((c) => values[c])
    .map((c) => `cast(${c} as varchar) = ${lit(values[c] ?? '')}`);
  const r = await deps.warehouse.query({
    sql: `select * from ${key}${filters.length ? ` where ${filters.join(' and ')}` : ''} order by ${scd2.businessKey.join(', ')}`,
    limit,
    asOf,
  });
  const columns = r.columns.map((c) => c.name);
  return {
    columns,
    rows: r.rows.map((raw) => Object.fromEntries(columns.map((c) => [c, cell(raw[c])]))),
    truncated: r.truncated,
    asOf,
  };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export async function experimentKeys(deps: AnalysisDeps): Promise<string[]> {
  const defs = await deps.ctx.definitions();
  if (!defs.graph.topologicalOrder.includes(RESULTS_MART)) return [];
  try {
    const r = await deps.warehouse.query({
      sql: `select distinct experiment_key from ${RESULTS_MART} order by 1`,
      limit: 10_000,
    });
    return r.rows.map((row) => String(row['experiment_key']));
  } catch {
    // Not published yet.
    return [];
  }
}

export async function experiment(deps: AnalysisDeps, key: string, day?: string): Promise<ExperimentResponse> {
  const known = await experimentKeys(deps);
  if (!known.includes(key)) {
    const hint = nearest(key, known);
    throw new UsageError(`unknown experiment "${key}"${hint ? `; did you mean "${hint}"?` : ''}`);
  }
  const daysResult = await deps.warehouse.query({
    sql: `select distinct _partition_key as day from ${RESULTS_MART} where experiment_key = ${lit(key)} order by 1`,
    limit: 10_000,
  });
  const days = daysResult.rows.map((r) => String(r['day']));
  const chosen = day ?? days.at(-1) ?? '';
  if (!days.includes(chosen)) throw new UsageError(`no published results of ${key} for ${chosen}`);
  const r = await deps.warehouse.query({
    sql: `select * from ${RESULTS_MART} where experiment_key = ${lit(key)} and _partition_key = ${lit(chosen)} order by metric_id, is_baseline desc, variation`,
    limit: 100_000,
  });
  const rows = [...r.rows];
  const lines = reportLines(rows);
  const first = rows[0] ?? {};
  const usersOf = rows.filter((x) => x['metric_id'] === first['metric_id']);
  return {
    experiment: key,
    day: chosen,
    days,
    liftType: String(first['lift_type'] ?? ''),
    alpha: num(first['alpha']),
    srm: { pValue: num(first['srm_p_value']), mismatch: first['srm_mismatch'] === true },
    users: usersOf.map((x) => ({ variation: String(x['variation']), users: Number(x['users'] ?? 0) })),
    multipleVariationUsers: Number(first['multiple_variation_users'] ?? 0),
    rows: rows.map((x, i) => ({
      metric: String(x['metric_id']),
      role: String(x['role']),
      variation: String(x['variation']),
      users: Number(x['users'] ?? 0),
      mean: num(x['mean']),
      isBaseline: x['is_baseline'] === true,
      lift: num(x['lift']),
      ciLow: num(x['ci_low']),
      ciHigh: num(x['ci_high']),
      pValue: num(x['p_value']),
      significant: x['significant'] === true,
      error: x['error'] === null || x['error'] === undefined ? null : String(x['error']),
      line: lines[i] ?? {},
    })),
  };
}
