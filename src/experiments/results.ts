/**
 * The results mart of an experiment: its sufficient-statistics rows (sql.ts) → analyzeExperiment → one row per
 * experiment × metric × variation, with the lift, its interval and p-value, the corrected p-value, the SRM check,
 * the units excluded for seeing several variations, and the sufficient statistics themselves. Pure.
 */
import type { ComputeColumn, ComputeResult, ComputeValue } from '../dsl/compute.js';
import { analyzeExperiment } from './analysis.js';
import type { ExperimentDefinition } from './experiment.js';
import { STAT_SUM_COLUMNS, sufficientStatsFromSqlRow } from './sql.js';

/** Columns of `mart_experiment_results`, in order. */
export const EXPERIMENT_RESULT_COLUMNS: readonly ComputeColumn[] = [
  { name: 'experiment_key', type: 'string' },
  { name: 'metric_id', type: 'string' },
  { name: 'metric_name', type: 'string' },
  { name: 'metric_type', type: 'string' },
  { name: 'role', type: 'string' },
  { name: 'variation', type: 'string' },
  { name: 'is_baseline', type: 'boolean' },
  { name: 'users', type: 'integer' },
  { name: 'mean', type: 'double' },
  { name: 'stddev', type: 'double' },
  { name: 'baseline_mean', type: 'double' },
  { name: 'absolute_lift', type: 'double' },
  /** 'relative' or 'absolute': what lift, ci_low and ci_high measure (the analysis' difference type). */
  { name: 'lift_type', type: 'string' },
  { name: 'lift', type: 'double' },
  /** 'two-sided', 'greater' or 'less' (one-sided tests): the hypothesis p_value and the CI are for. */
  { name: 'alternative', type: 'string' },
  /** NULL on the open side of a one-sided interval. */
  { name: 'ci_low', type: 'double' },
  { name: 'ci_high', type: 'double' },
  { name: 'p_value', type: 'double' },
  { name: 'p_value_adjusted', type: 'double' },
  { name: 'ci_low_adjusted', type: 'double' },
  { name: 'ci_high_adjusted', type: 'double' },
  { name: 'chance_to_win', type: 'double' },
  { name: 'significant', type: 'boolean' },
  { name: 'error', type: 'string' },
  { name: 'engine', type: 'string' },
  { name: 'correction', type: 'string' },
  { name: 'alpha', type: 'double' },
  { name: 'srm_p_value', type: 'double' },
  { name: 'srm_mismatch', type: 'boolean' },
  { name: 'multiple_variation_users', type: 'integer' },
  { name: 'main_sum', type: 'double' },
  { name: 'main_sum_squares', type: 'double' },
  { name: 'denominator_sum', type: 'double' },
  { name: 'denominator_sum_squares', type: 'double' },
  { name: 'main_denominator_sum_product', type: 'double' },
  { name: 'covariate_sum', type: 'double' },
  { name: 'covariate_sum_squares', type: 'double' },
  { name: 'main_covariate_sum_product', type: 'double' },
];

const finiteOrNull = (x: number | undefined): number | null =>
  x === undefined || !Number.isFinite(x) ? null : x;

/**
 * Result rows of one experiment from its rows of the statistics query (other experiments' rows are ignored).
 * No rows (nobody exposed yet) gives no result rows.
 */
export function experimentResultRows(
  experiment: ExperimentDefinition,
  statsRows: readonly Readonly<Record<string, unknown>>[],
): Record<string, ComputeValue>[] {
  const mine = statsRows.filter((r) => r.experiment_key === experiment.key);
  if (mine.length === 0) return [];
  const settings = { ...experiment.analysis, variations: experiment.variations };
  const byMetric = (id: string) => mine.filter((r) => r.metric_id === id);
  // Units per variation are the same for every metric: the assignment.
  const firstMetric = experiment.metrics[0]?.metric.id ?? '';
  const units = Object.fromEntries(byMetric(firstMetric).map((r) => [String(r.variation), Number(r.users)]));
  const analysis = analyzeExperiment({
    settings,
    units,
    metrics: experiment.metrics.map(({ metric, role }) => ({
      metric,
      role,
      rows: byMetric(metric.id).map((r) => sufficientStatsFromSqlRow(r)),
    })),
  });
  const a = experiment.analysis;
  const baselineIndex = a.baselineIndex;
  const excluded = Number(mine[0]?.multiple_variation_users ?? 0);
  const out: Record<string, ComputeValue>[] = [];
  analysis.metrics.forEach((m, i) => {
    const decl = experiment.metrics[i];
    if (!decl) return;
    const baseline = m.variations[baselineIndex];
    m.variations.forEach((v, j) => {
      const stats = byMetric(m.metricId).find((r) => r.variation === v.id);
      const r = v.result;
      const frequentist = r !== undefined && 'pValue' in r;
      const p = frequentist ? (r.pValueAdjusted ?? r.pValue) : undefined;
      const row: Record<string, ComputeValue> = {
        experiment_key: experiment.key,
        metric_id: m.metricId,
        metric_name: decl.metric.name,
        metric_type: decl.metric.type,
        role: m.role,
        variation: v.id,
        is_baseline: j === baselineIndex,
        users: v.users,
        mean: finiteOrNull(v.mean),
        stddev: finiteOrNull(v.stddev),
        baseline_mean: finiteOrNull(baseline?.mean),
        absolute_lift: j === baselineIndex ? null : finiteOrNull(v.mean - (baseline?.mean ?? NaN)),
        lift_type: a.differenceType,
        lift: finiteOrNull(r?.expected),
        alternative: a.alternative,
        ci_low: finiteOrNull(r?.ci[0]),
        ci_high: finiteOrNull(r?.ci[1]),
        p_value: frequentist ? finiteOrNull(r.pValue) : null,
        p_value_adjusted: finiteOrNull(r?.pValueAdjusted),
        ci_low_adjusted: finiteOrNull(r?.ciAdjusted?.[0]),
        ci_high_adjusted: finiteOrNull(r?.ciAdjusted?.[1]),
        chance_to_win: r !== undefined && 'chanceToWin' in r ? finiteOrNull(r.chanceToWin) : null,
        significant:
          r === undefined || r.errorMessage !== null
            ? null
            : frequentist
              ? (p ?? 1) < a.alpha
              : 'chanceToWin' in r
                ? r.chanceToWin > 0.95 || r.chanceToWin < 0.05
                : null,
        error: r?.errorMessage ?? null,
        engine: a.engine,
        correction: a.correction,
        alpha: a.alpha,
        srm_p_value: analysis.srm.pValue,
        srm_mismatch: analysis.srm.mismatch,
        multiple_variation_users: excluded,
      };
      for (const c of STAT_SUM_COLUMNS) {
        const x = stats?.[c];
        row[c] = x === null || x === undefined ? null : Number(x);
      }
      out.push(row);
    });
  });
  return out;
}

/** The mart's compute result for several experiments. */
export function experimentResults(
  experiments: readonly ExperimentDefinition[],
  statsRows: readonly Readonly<Record<string, unknown>>[],
): ComputeResult {
  return {
    columns: EXPERIMENT_RESULT_COLUMNS,
    rows: experiments.flatMap((e) => experimentResultRows(e, statsRows)),
  };
}
