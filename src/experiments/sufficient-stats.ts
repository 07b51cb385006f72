/**
 * The contract between the SQL that runs on an engine and the statistics: one row per metric and
 * variant with the sufficient statistics (gbstats' query columns). The SQL generator must produce these
 * columns (snake_case names in SUFFICIENT_STAT_COLUMNS); `statisticFromRow` turns a row into the
 * statistic the tests consume.
 */
import { z } from 'zod';
import { usesCuped, type MetricDefinition } from './metrics.js';
import type { TestStatistic } from './stats/index.js';

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

export const variantSufficientStatsSchema = z
  .object({
    variation: z.string().min(1),
    /** Exposed units in the variant. */
    users: z.number().int().nonnegative(),
    /** Σ per-unit value (binomial: number of converted units). */
    mainSum: finite,
    /** Σ per-unit value² (binomial: equal to mainSum). */
    mainSumSquares: finite,
    /** Ratio metrics. */
    denominatorSum: finite.optional(),
    denominatorSumSquares: finite.optional(),
    mainDenominatorSumProduct: finite.optional(),
    /** CUPED: the pre-exposure covariate. */
    covariateSum: finite.optional(),
    covariateSumSquares: finite.optional(),
    mainCovariateSumProduct: finite.optional(),
  })
  .strict();
export type VariantSufficientStats = z.infer<typeof variantSufficientStatsSchema>;

/** Column names the SQL returns, as in GrowthBook's experiment metric queries. */
export const SUFFICIENT_STAT_COLUMNS: Readonly<Record<keyof VariantSufficientStats, string>> = {
  variation: 'variation',
  users: 'users',
  mainSum: 'main_sum',
  mainSumSquares: 'main_sum_squares',
  denominatorSum: 'denominator_sum',
  denominatorSumSquares: 'denominator_sum_squares',
  mainDenominatorSumProduct: 'main_denominator_sum_product',
  covariateSum: 'covariate_sum',
  covariateSumSquares: 'covariate_sum_squares',
  mainCovariateSumProduct: 'main_covariate_sum_product',
};

function required(
  row: VariantSufficientStats,
  key: keyof VariantSufficientStats,
  metric: MetricDefinition,
): number {
  const v = row[key];
  if (typeof v !== 'number') {
    throw new Error(`metric ${metric.id}: variation ${row.variation} lacks ${SUFFICIENT_STAT_COLUMNS[key]}`);
  }
  return v;
}

/** The statistic of one variant for one metric (gbstats variation_statistic_from_metric_row). */
export function statisticFromRow(metric: MetricDefinition, input: unknown): TestStatistic {
  const row = variantSufficientStatsSchema.parse(input);
  const n = row.users;
  if (metric.type === 'ratio') {
    return {
      type: 'ratio',
      n,
      m: { type: 'mean', sum: row.mainSum, sumSquares: row.mainSumSquares },
      d: {
        type: 'mean',
        sum: required(row, 'denominatorSum', metric),
        sumSquares: required(row, 'denominatorSumSquares', metric),
      },
      mdCrossProd: required(row, 'mainDenominatorSumProduct', metric),
    };
  }
  const binomial = metric.type === 'binomial';
  if (usesCuped(metric)) {
    const pre = required(row, 'covariateSum', metric);
    return {
      type: 'cuped',
      n,
      post: binomial
        ? { type: 'proportion', sum: row.mainSum }
        : { type: 'mean', sum: row.mainSum, sumSquares: row.mainSumSquares },
      pre: binomial
        ? { type: 'proportion', sum: pre }
        : { type: 'mean', sum: pre, sumSquares: required(row, 'covariateSumSquares', metric) },
      postPreCrossProd: required(row, 'mainCovariateSumProduct', metric),
    };
  }
  return binomial
    ? { type: 'proportion', n, sum: row.mainSum }
    : { type: 'mean', n, sum: row.mainSum, sumSquares: row.mainSumSquares };
}
