/**
 * The SQL generator: metric declarations → ONE query returning, per experiment × metric × variation, the
 * sufficient statistics of sufficient-stats.ts (GrowthBook's query columns), plus the units excluded for
 * being exposed to more than one variation. Pure rendering: no I/O, no clock.
 *
 * Shape of the query (all CTEs, engine-neutral SQL):
 * 1. `exposures`: exposure rows in the window, unit cast to text (exposure and fact tables may type it apart).
 * 2. `units`: first exposure per experiment × unit; `assigned` keeps units seen in exactly one variation,
 *    `excluded` counts the others per experiment.
 * 3. per metric source: `assigned` LEFT JOIN the source's events, summed per unit over the conversion window
 *    (main value) and the CUPED lookback (covariate), so units without events count as 0.
 * 4. capping per metric (pooled over variations), then sums per variation; one UNION ALL branch per metric.
 *
 * What engines spell apart (type names, adding minutes to a timestamp) comes from `ExperimentSqlSpellings`:
 * by default the portable template macros, which the engine that runs the query renders (an asset's SQL
 * is rendered per step), or one dialect's spellings directly (`dialectSpellings`). Percentiles use window
 * functions every engine has. Values and sums are exact decimals (see `ExperimentSqlSpellings.decimal`).
 */
import type { SqlDialect } from '../engines/dialect/dialect.js';
import { usesCuped, type MetricDefinition, type MetricSource } from './metrics.js';
import {
  SUFFICIENT_STAT_COLUMNS,
  variantSufficientStatsSchema,
  type VariantSufficientStats,
} from './sufficient-stats.js';

/** What differs between engines for this query. */
export interface ExperimentSqlSpellings {
  readonly textType: string;
  readonly integerType: string;
  /**
   * An exact decimal type with 38 digits, `scale` of them after the point: per-unit values and the sums
   * are exact, so they do not depend on the order an engine aggregates in (doubles would: their last
   * digit changes with the parallel aggregation order, and the data versions built on them with it).
   */
  decimal(scale: number): string;
  /** A column or table name, quoted. */
  quote(name: string): string;
  /** An exact numeric literal from its digits ('0.99'), where an engine would read `0.99` as a float. */
  exactNumber(digits: string): string;
  /** `ts` moved by a whole number of minutes (negative: earlier). */
  addMinutes(tsExpr: string, minutes: number): string;
  /** ISO-8601 instant → timestamp literal (UTC). */
  timestamp(iso: string): string;
}

const ansiTimestamp = (iso: string): string => {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]00:?00)?$/.exec(iso);
  if (!m) throw new Error(`not a UTC ISO-8601 instant: ${iso}`);
  return `TIMESTAMP '${m[1]} ${m[2] ?? '00:00:00'}'`;
};

/**
 * The query as a template of the portable SQL macros (`{{ t.text }}`, `{{ t.decimal(38, 6) }}`,
 * `{{ add_minutes(ts, n) }}`: src/engines/dialect/portable-macros.ts), so the engine that runs the step
 * renders it in its own spelling (the exact type is DECIMAL(38,s) on DuckDB, Trino and Spark, BIGNUMERIC(38, s)
 * on BigQuery, whose NUMERIC holds 29 integer digits).
 */
export const PORTABLE_TEMPLATE_SPELLINGS: ExperimentSqlSpellings = {
  textType: '{{ t.text }}',
  integerType: '{{ t.bigint }}',
  decimal: (scale) => `{{ t.decimal(38, ${scale}) }}`,
  exactNumber: (digits) => `{{ exact_number(${digits}) }}`,
  quote: (name) => `{{ ident(${name}) }}`,
  addMinutes: (ts, minutes) => (minutes === 0 ? ts : `{{ add_minutes(${ts}, ${minutes}) }}`),
  timestamp: ansiTimestamp,
};

/** The query spelled directly for one dialect (its portable spellings and type names). */
export function dialectSpellings(d: SqlDialect): ExperimentSqlSpellings {
  return {
    textType: d.portable.types.text,
    integerType: d.portable.types.bigint,
    decimal: (scale) => d.portable.decimal(38, scale),
    exactNumber: (digits) => d.portable.exactNumber(digits),
    quote: (name) => d.quote(name),
    addMinutes: (ts, minutes) => (minutes === 0 ? ts : d.portable.addMinutes(ts, minutes)),
    timestamp: (iso) => d.timestampLiteral(iso),
  };
}

/** Digits after the point of per-unit values (and of the cap); their products and squares have twice as many. */
export const VALUE_SCALE = 6;

/** Where exposures come from: one row per exposure event. */
export interface ExposureSource {
  /** Table (asset key) of exposure events, e.g. `raw.snowplow_events`. */
  readonly table: string;
  readonly unitColumn: string;
  readonly experimentColumn: string;
  readonly variationColumn: string;
  readonly timestampColumn: string;
  /** Extra SQL predicate (engine-neutral). */
  readonly filter?: string;
}

export interface ExperimentSqlSpec {
  readonly exposures: ExposureSource;
  /** Experiments to analyse (all in the exposure table when absent). */
  readonly experimentKeys?: readonly string[];
  readonly metrics: readonly MetricDefinition[];
  /**
   * SQL timestamp expression: exposures and metric events at or after it are ignored (results "as of" it),
   * e.g. `{{ partition_end }}` in an asset or a literal. Absent: everything in the tables.
   */
  readonly until?: string;
  /** Exposures outside `[start, end)` (ISO-8601 instants) do not assign units. */
  readonly exposureWindow?: { readonly start?: string; readonly end?: string };
  /** How to spell engine-dependent parts: default the portable template (rendered per engine at run time). */
  readonly spellings?: ExperimentSqlSpellings;
}

/** The sums of a result row (what the statistics are computed from), in order. */
export const STAT_SUM_COLUMNS = [
  'main_sum',
  'main_sum_squares',
  'denominator_sum',
  'denominator_sum_squares',
  'main_denominator_sum_product',
  'covariate_sum',
  'covariate_sum_squares',
  'main_covariate_sum_product',
] as const;

/** Columns of every result row, in order. */
export const EXPERIMENT_SQL_COLUMNS = [
  'experiment_key',
  'metric_id',
  'variation',
  'users',
  ...STAT_SUM_COLUMNS,
  'multiple_variation_users',
] as const;

const IDENT = /^[a-z_][a-z0-9_]*$/;
/**
 * Identifiers are quoted as the engine quotes them (GoogleSQL reads "x" as a string); asset keys stay
 * `schema.name` as every asset's SQL writes them.
 */
const q = (s: ExperimentSqlSpellings, name: string): string => {
  if (!IDENT.test(name)) throw new Error(`not a lower_snake_case identifier: ${name}`);
  return s.quote(name);
};
const tableName = (s: ExperimentSqlSpellings, key: string): string => {
  const parts = key.split('.');
  if (parts.length !== 2) throw new Error(`table must be schema.name: ${key}`);
  return parts.map((p) => q(s, p)).join('.');
};
const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const DAY_MINUTES = 1_440;
const HOUR_MINUTES = 60;

/** Offsets are whole minutes (every engine can add those); `what` names the setting for the error. */
function wholeMinutes(minutes: number, what: string): number {
  const rounded = Math.round(minutes);
  if (Math.abs(minutes - rounded) > 1e-9)
    throw new Error(`${what} must be a whole number of minutes, got ${minutes} minutes`);
  return rounded;
}

interface Component {
  readonly cte: string;
  readonly sql: string;
}

/** Per-unit values of one metric source: main (conversion window) and covariate (pre-exposure lookback). */
function sourceComponent(
  cte: string,
  metric: MetricDefinition,
  source: MetricSource,
  cuped: boolean,
  s: ExperimentSqlSpellings,
  until: string | undefined,
): Component {
  const binomial = metric.type === 'binomial';
  // Event values are summed exactly (decimal), whatever the column's type.
  const value =
    binomial || source.valueColumn === undefined
      ? '1'
      : `CAST(e.${q(s, source.valueColumn)} AS ${s.decimal(VALUE_SCALE)})`;
  const ts = `e.${q(s, source.timestampColumn)}`;
  const first = 'a.first_exposed_at';
  const delay = wholeMinutes(
    metric.conversionDelayHours * HOUR_MINUTES,
    `metric ${metric.id}: conversionDelayHours`,
  );
  const conds = [`${ts} >= ${s.addMinutes(first, delay)}`];
  if (metric.conversionWindowDays !== undefined) {
    const window = wholeMinutes(
      metric.conversionWindowDays * DAY_MINUTES,
      `metric ${metric.id}: conversionWindowDays`,
    );
    conds.push(`${ts} < ${s.addMinutes(first, delay + window)}`);
  }
  const agg = (cond: string): string =>
    binomial
      ? `MAX(CASE WHEN ${cond} THEN 1 ELSE 0 END)`
      : `COALESCE(SUM(CASE WHEN ${cond} THEN ${value} ELSE 0 END), 0)`;
  const cols = [`${agg(conds.join(' AND '))} AS main_value`];
  if (cuped) {
    const lookback = metric.type !== 'ratio' && metric.cuped ? metric.cuped.lookbackDays : 14;
    cols.push(
      `${agg(`${ts} >= ${s.addMinutes(first, -lookback * DAY_MINUTES)} AND ${ts} < ${first}`)} AS covariate_value`,
    );
  }
  const where = [
    ...(until ? [`e.${q(s, source.timestampColumn)} < ${until}`] : []),
    ...(source.filter ? [`(${source.filter})`] : []),
  ];
  const events = `SELECT e.* FROM ${tableName(s, source.table)} e${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const sql = `SELECT a.experiment_key, a.unit, a.variation, ${cols.join(', ')}
  FROM assigned a LEFT JOIN (${events}) e ON CAST(e.${q(s, source.unitColumn)} AS ${s.textType}) = a.unit
  GROUP BY a.experiment_key, a.unit, a.variation`;
  return { cte, sql };
}

/** A number in (0, 1) as plain digits ('0.99'; never an exponent). */
function plainDigits(p: number): string {
  const digits = String(p);
  if (!/^\d+(\.\d+)?$/.test(digits))
    throw new Error(`percentile ${p}: it has no plain decimal spelling (an exponent)`);
  return digits;
}

/** Capped value expression; `cap` is a column of the metric's cap CTE (NULL = no cap). */
const capped = (expr: string, cap: string | undefined): string =>
  cap === undefined ? expr : `CASE WHEN ${cap} IS NOT NULL AND ${expr} > ${cap} THEN ${cap} ELSE ${expr} END`;

/**
 * percentile_cont(p) of `col` per experiment, spelled with window functions every engine has (Trino and
 * BigQuery have no percentile_cont aggregate, and approximate percentiles differ run to run): over the n
 * values sorted, h = (n − 1)·p, x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]) (0-based). Rounded to the
 * values' decimal scale, so the capped values stay exact.
 */
function percentileCaps(
  m: string,
  cols: readonly { col: string; alias: string }[],
  p: number,
  ignoreZeros: boolean,
  s: ExperimentSqlSpellings,
): Component[] {
  const dec = s.decimal(VALUE_SCALE);
  const ctes: Component[] = cols.map(({ col, alias }) => ({
    cte: `${m}_${alias}_ranked`,
    sql: `SELECT experiment_key, CAST(${col} AS ${dec}) AS x,
    row_number() OVER (PARTITION BY experiment_key ORDER BY ${col}) - 1 AS r,
    COUNT(*) OVER (PARTITION BY experiment_key) AS n
  FROM ${m}_units${ignoreZeros ? ` WHERE ${col} <> 0` : ''}`,
  }));
  // p exact: GoogleSQL reads a literal 0.99 as a float, and the interpolation with it would need rounding.
  const h = `((n - 1) * ${s.exactNumber(plainDigits(p))})`;
  const at = (offset: string): string => `MAX(CASE WHEN r = FLOOR(${h})${offset} THEN x END)`;
  const cap = (alias: string): string =>
    `SELECT experiment_key, CAST(${at('')} + (MAX(${h}) - MAX(FLOOR(${h}))) * (COALESCE(${at(' + 1')}, ${at('')}) - ${at('')}) AS ${dec}) AS ${alias}
  FROM ${m}_${alias}_ranked GROUP BY experiment_key`;
  // One row per experiment with every cap (an experiment without non-zero values has no cap: NULL).
  const [first, ...rest] = cols;
  if (!first) return ctes;
  const joined = rest.reduce(
    (from, { alias }) =>
      `${from} LEFT JOIN (${cap(alias)}) ${alias} ON ${alias}.experiment_key = k.experiment_key`,
    `(SELECT DISTINCT experiment_key FROM ${m}_units) k LEFT JOIN (${cap(first.alias)}) ${first.alias} ON ${first.alias}.experiment_key = k.experiment_key`,
  );
  ctes.push({
    cte: `${m}_caps`,
    sql: `SELECT k.experiment_key, ${cols.map(({ alias }) => `${alias}.${alias}`).join(', ')} FROM ${joined}`,
  });
  return ctes;
}

function metricBranch(
  i: number,
  metric: MetricDefinition,
  s: ExperimentSqlSpellings,
  until: string | undefined,
): { ctes: Component[]; select: string } {
  const m = `m${i}`;
  const cuped = usesCuped(metric);
  const ctes: Component[] = [];
  const main =
    metric.type === 'ratio'
      ? sourceComponent(`${m}_num`, metric, metric.numerator, false, s, until)
      : sourceComponent(`${m}_main`, metric, metric.source, cuped, s, until);
  ctes.push(main);
  let unitSql: string;
  if (metric.type === 'ratio') {
    const den = sourceComponent(`${m}_den`, metric, metric.denominator, false, s, until);
    ctes.push(den);
    unitSql = `SELECT n.experiment_key, n.unit, n.variation, n.main_value, d.main_value AS denominator_value
  FROM ${main.cte} n JOIN ${den.cte} d ON d.experiment_key = n.experiment_key AND d.unit = n.unit`;
  } else {
    unitSql = `SELECT experiment_key, unit, variation, main_value${cuped ? ', covariate_value' : ''} FROM ${main.cte}`;
  }
  ctes.push({ cte: `${m}_units`, sql: unitSql });

  const dec = s.decimal(VALUE_SCALE);
  const dec2 = s.decimal(2 * VALUE_SCALE);
  const capping = metric.type === 'binomial' ? undefined : metric.capping;
  let from = `${m}_units u`;
  let capMain: string | undefined;
  let capDen: string | undefined;
  if (capping) {
    const ratio = metric.type === 'ratio';
    if (capping.type === 'absolute') {
      const capCols = [`CAST(${capping.value} AS ${dec}) AS main_cap`];
      if (ratio) capCols.push(`CAST(${capping.value} AS ${dec}) AS denominator_cap`);
      ctes.push({
        cte: `${m}_caps`,
        sql: `SELECT DISTINCT experiment_key, ${capCols.join(', ')} FROM ${m}_units`,
      });
    } else {
      const cols = [{ col: 'main_value', alias: 'main_cap' }];
      if (ratio) cols.push({ col: 'denominator_value', alias: 'denominator_cap' });
      ctes.push(...percentileCaps(m, cols, capping.percentile, capping.ignoreZeros, s));
    }
    from = `${m}_units u JOIN ${m}_caps c ON c.experiment_key = u.experiment_key`;
    capMain = 'c.main_cap';
    if (ratio) capDen = 'c.denominator_cap';
  }
  const exact = (e: string): string => `CAST(${e} AS ${dec})`;
  const v = capped(exact('u.main_value'), capMain);
  // GrowthBook caps the covariate at the post-exposure cap as well.
  const cov = cuped ? capped(exact('u.covariate_value'), capMain) : undefined;
  const den = metric.type === 'ratio' ? capped(exact('u.denominator_value'), capDen) : undefined;
  ctes.push({
    cte: `${m}_values`,
    sql: `SELECT u.experiment_key, u.variation, ${v} AS v${den ? `, ${den} AS d` : ''}${cov ? `, ${cov} AS c` : ''} FROM ${from}`,
  });
  // Sums of values (scale 6) and of products (scale 12), exact and typed alike on every engine.
  const sum = (e: string | undefined): string => (e ? `CAST(SUM(${e}) AS ${dec})` : `CAST(NULL AS ${dec})`);
  const sum2 = (x: string | undefined, y: string | undefined): string =>
    x && y ? `CAST(SUM(CAST(${x} * ${y} AS ${dec2})) AS ${dec2})` : `CAST(NULL AS ${dec2})`;
  const select = `SELECT experiment_key, ${lit(metric.id)} AS metric_id, variation,
    CAST(COUNT(*) AS ${s.integerType}) AS users, ${sum('v')} AS main_sum, ${sum2('v', 'v')} AS main_sum_squares,
    ${sum(den && 'd')} AS denominator_sum, ${sum2(den && 'd', den && 'd')} AS denominator_sum_squares,
    ${sum2('v', den && 'd')} AS main_denominator_sum_product,
    ${sum(cov && 'c')} AS covariate_sum, ${sum2(cov && 'c', cov && 'c')} AS covariate_sum_squares,
    ${sum2('v', cov && 'c')} AS main_covariate_sum_product
  FROM ${m}_values GROUP BY experiment_key, variation`;
  return { ctes, select };
}

/** Renders the sufficient-statistics query (columns: EXPERIMENT_SQL_COLUMNS). */
export function experimentStatsSql(spec: ExperimentSqlSpec): string {
  if (spec.metrics.length === 0) throw new Error('an experiment query needs at least one metric');
  const ids = new Set<string>();
  for (const m of spec.metrics) {
    if (ids.has(m.id)) throw new Error(`metric id "${m.id}" is listed twice`);
    ids.add(m.id);
  }
  const s = spec.spellings ?? PORTABLE_TEMPLATE_SPELLINGS;
  const x = spec.exposures;
  const ts = q(s, x.timestampColumn);
  const where = [`${q(s, x.experimentColumn)} IS NOT NULL`, `${q(s, x.unitColumn)} IS NOT NULL`];
  if (spec.experimentKeys) {
    if (spec.experimentKeys.length === 0) throw new Error('experimentKeys must not be empty');
    where.push(`${q(s, x.experimentColumn)} IN (${spec.experimentKeys.map(lit).join(', ')})`);
  }
  if (spec.exposureWindow?.start) where.push(`${ts} >= ${s.timestamp(spec.exposureWindow.start)}`);
  if (spec.exposureWindow?.end) where.push(`${ts} < ${s.timestamp(spec.exposureWindow.end)}`);
  if (spec.until) where.push(`${ts} < ${spec.until}`);
  if (x.filter) where.push(`(${x.filter})`);
  const base: Component[] = [
    {
      cte: 'exposures',
      sql: `SELECT CAST(${q(s, x.experimentColumn)} AS ${s.textType}) AS experiment_key,
    CAST(${q(s, x.unitColumn)} AS ${s.textType}) AS unit, CAST(${q(s, x.variationColumn)} AS ${s.textType}) AS variation,
    ${ts} AS exposed_at
  FROM ${tableName(s, x.table)} WHERE ${where.join(' AND ')}`,
    },
    {
      cte: 'units',
      sql: `SELECT experiment_key, unit, MIN(exposed_at) AS first_exposed_at, MIN(variation) AS variation,
    COUNT(DISTINCT variation) AS variations
  FROM exposures GROUP BY experiment_key, unit`,
    },
    {
      cte: 'assigned',
      sql: 'SELECT experiment_key, unit, first_exposed_at, variation FROM units WHERE variations = 1',
    },
    {
      cte: 'excluded',
      sql: `SELECT experiment_key, CAST(SUM(CASE WHEN variations > 1 THEN 1 ELSE 0 END) AS ${s.integerType}) AS n
  FROM units GROUP BY experiment_key`,
    },
  ];
  const branches = spec.metrics.map((m, i) => metricBranch(i, m, s, spec.until));
  const ctes = [...base, ...branches.flatMap((b) => b.ctes)];
  const stats = branches.map((b) => b.select).join('\n  UNION ALL\n  ');
  return `WITH ${ctes.map((c) => `${c.cte} AS (\n  ${c.sql}\n)`).join(',\n')},
stats AS (
  ${stats}
)
SELECT s.experiment_key, s.metric_id, s.variation, s.users, s.main_sum, s.main_sum_squares,
  s.denominator_sum, s.denominator_sum_squares, s.main_denominator_sum_product,
  s.covariate_sum, s.covariate_sum_squares, s.main_covariate_sum_product,
  x.n AS multiple_variation_users
FROM stats s JOIN excluded x ON x.experiment_key = s.experiment_key
ORDER BY s.experiment_key, s.metric_id, s.variation`;
}

const CAMEL: Readonly<Record<string, keyof VariantSufficientStats>> = Object.fromEntries(
  Object.entries(SUFFICIENT_STAT_COLUMNS).map(([k, v]) => [v, k as keyof VariantSufficientStats]),
);

/** A result row (snake_case, NULL for columns the metric lacks) → the statistics' input. */
export function sufficientStatsFromSqlRow(row: Readonly<Record<string, unknown>>): VariantSufficientStats {
  const out: Record<string, unknown> = {};
  for (const [col, key] of Object.entries(CAMEL)) {
    const v = row[col];
    if (v === null || v === undefined) continue;
    out[key] = key === 'variation' ? String(v) : Number(v);
  }
  return variantSufficientStatsSchema.parse(out);
}
