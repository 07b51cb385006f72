/**
 * Runs a whole experiment analysis on the sufficient statistics the engine returned: every metric for
 * every variation against the baseline (gbstats `analyze_metric_df`), the experiment's sample-ratio-
 * mismatch check, and the multiple-comparison correction across goal metrics (GrowthBook
 * `setAdjustedPValuesOnResults` / `setAdjustedCIs`).
 */
import { z } from 'zod';
import { metricDefinitionSchema, type MetricDefinition } from './metrics.js';
import {
  adjustPValues,
  adjustedConfidenceInterval,
  alternativeSchema,
  bayesianTest,
  differenceTypeSchema,
  sampleRatioMismatch,
  sequentialTest,
  statStddev,
  statUnadjustedMean,
  welchTTest,
  DEFAULT_SRM_THRESHOLD,
  type BayesianResult,
  type FrequentistResult,
  type SrmResult,
} from './stats/index.js';
import {
  statisticFromRow,
  variantSufficientStatsSchema,
  type VariantSufficientStats,
} from './sufficient-stats.js';

export const analysisSettingsSchema = z
  .object({
    variations: z
      .array(
        z
          .object({ id: z.string().min(1), name: z.string().optional(), weight: z.number().nonnegative() })
          .strict(),
      )
      .min(2),
    baselineIndex: z.number().int().nonnegative().default(0),
    engine: z.enum(['frequentist', 'bayesian']).default('frequentist'),
    differenceType: differenceTypeSchema.default('relative'),
    /** Frequentist significance level (Bayesian credible intervals are 95%, as in gbstats' runner). */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /**
     * Frequentist hypothesis: `two-sided`, or one-sided `greater` (the treatment is better: lift >
     * 0) or `less` (lift < 0), as gbstats' OneSidedTreatmentGreater/LesserTTest. One-sided intervals
     * are open on one side.
     */
    alternative: alternativeSchema.default('two-sided'),
    sequential: z
      .object({ enabled: z.boolean().default(false), tuningParameter: z.number().positive().default(5000) })
      .strict()
      .default({ enabled: false, tuningParameter: 5000 }),
    correction: z.enum(['none', 'holm-bonferroni', 'benjamini-hochberg']).default('none'),
    srmThreshold: z.number().gt(0).lt(1).default(DEFAULT_SRM_THRESHOLD),
    phaseLengthDays: z.number().positive().default(1),
  })
  .strict()
  .refine((s) => s.baselineIndex < s.variations.length, { message: 'baselineIndex out of range' })
  .refine((s) => s.engine === 'frequentist' || s.alternative === 'two-sided', {
    message: 'one-sided tests (alternative greater/less) need the frequentist engine',
    path: ['alternative'],
  })
  .refine((s) => !s.sequential.enabled || s.alternative === 'two-sided' || s.alpha < 0.5, {
    message: 'a one-sided sequential test needs alpha < 0.5',
    path: ['alpha'],
  });
export type AnalysisSettings = z.infer<typeof analysisSettingsSchema>;
export type AnalysisSettingsInput = z.input<typeof analysisSettingsSchema>;

export type VariationResult = (FrequentistResult | BayesianResult) & {
  /** Set when a correction applies (frequentist goal metrics). */
  pValueAdjusted?: number;
  ciAdjusted?: readonly [number, number];
};

export interface VariationAnalysis {
  readonly id: string;
  readonly users: number;
  /** Unadjusted mean of the metric in the variation and its per-unit standard deviation. */
  readonly mean: number;
  readonly stddev: number;
  /** Absent for the baseline. */
  readonly result?: VariationResult;
}

export interface MetricAnalysis {
  readonly metricId: string;
  readonly variations: VariationAnalysis[];
}

const emptyRow = (variation: string): VariantSufficientStats => ({
  variation,
  users: 0,
  mainSum: 0,
  mainSumSquares: 0,
  denominatorSum: 0,
  denominatorSumSquares: 0,
  mainDenominatorSumProduct: 0,
  covariateSum: 0,
  covariateSumSquares: 0,
  mainCovariateSumProduct: 0,
});

/** One metric, every variation against the baseline. Variations without a row count as empty. */
export function analyzeMetric(
  metric: MetricDefinition,
  rows: readonly unknown[],
  settings: AnalysisSettings,
): MetricAnalysis {
  const byId = new Map(rows.map((r) => variantSufficientStatsSchema.parse(r)).map((r) => [r.variation, r]));
  const stats = settings.variations.map((v) => statisticFromRow(metric, byId.get(v.id) ?? emptyRow(v.id)));
  const baseline = stats[settings.baselineIndex];
  if (baseline === undefined) throw new Error('baselineIndex out of range');
  const variations = settings.variations.map((v, i): VariationAnalysis => {
    const stat = stats[i] ?? baseline;
    const summary = { id: v.id, users: stat.n, mean: statUnadjustedMean(stat), stddev: statStddev(stat) };
    if (i === settings.baselineIndex) return summary;
    const base = {
      differenceType: settings.differenceType,
      alpha: settings.alpha,
      trafficProportionB: v.weight,
      phaseLengthDays: settings.phaseLengthDays,
    };
    let result: VariationResult;
    if (settings.engine === 'bayesian') {
      const prior = metric.prior ?? { proper: false, mean: 0, stddev: 0.1 };
      // gbstats' runner does not pass alpha to the Bayesian test: its credible interval is always 95%.
      result = bayesianTest(baseline, stat, {
        ...base,
        alpha: 0.05,
        inverse: metric.inverse,
        priorType: 'relative',
        prior: { mean: prior.mean, variance: Math.pow(prior.stddev, 2), proper: prior.proper },
      });
    } else if (settings.sequential.enabled) {
      result = sequentialTest(baseline, stat, {
        ...base,
        alternative: settings.alternative,
        sequentialTuningParameter: settings.sequential.tuningParameter,
      });
    } else {
      result = welchTTest(baseline, stat, { ...base, alternative: settings.alternative });
    }
    return { ...summary, result };
  });
  return { metricId: metric.id, variations };
}

export const metricRoleSchema = z.enum(['goal', 'guardrail', 'secondary']);

export interface ExperimentAnalysisInput {
  readonly settings: AnalysisSettingsInput;
  /** Units assigned and exposed per variation id (from the assignment table), for the SRM check. */
  readonly units: Readonly<Record<string, number>>;
  readonly metrics: readonly {
    metric: unknown;
    role: z.input<typeof metricRoleSchema>;
    rows: readonly unknown[];
  }[];
}

export interface ExperimentAnalysis {
  readonly srm: SrmResult;
  readonly metrics: (MetricAnalysis & { role: z.infer<typeof metricRoleSchema> })[];
}

export function analyzeExperiment(input: ExperimentAnalysisInput): ExperimentAnalysis {
  const settings = analysisSettingsSchema.parse(input.settings);
  const srm = sampleRatioMismatch({
    users: settings.variations.map((v) => input.units[v.id] ?? 0),
    weights: settings.variations.map((v) => v.weight),
    threshold: settings.srmThreshold,
  });
  const metrics = input.metrics.map((m) => ({
    role: metricRoleSchema.parse(m.role),
    ...analyzeMetric(metricDefinitionSchema.parse(m.metric), m.rows, settings),
  }));
  if (settings.engine === 'frequentist' && settings.correction !== 'none') {
    applyCorrection(metrics, settings.correction, settings.alpha, settings.alternative);
  }
  return { srm, metrics };
}

/** Adjusts the p-values of all goal metrics × non-baseline variations together, in place. */
function applyCorrection(
  metrics: ExperimentAnalysis['metrics'],
  method: 'holm-bonferroni' | 'benjamini-hochberg',
  alpha: number,
  alternative: AnalysisSettings['alternative'],
): void {
  const targets: { v: VariationAnalysis; r: FrequentistResult }[] = [];
  for (const m of metrics) {
    if (m.role !== 'goal') continue;
    for (const v of m.variations)
      // A p-value gbstats could not compute (NaN, sequential one-sided) takes no part in the correction.
      if (v.result && 'pValue' in v.result && Number.isFinite(v.result.pValue))
        targets.push({ v, r: v.result });
  }
  if (targets.length === 0) return;
  const adjusted = adjustPValues(
    targets.map((t) => t.r.pValue),
    method,
  );
  targets.forEach(({ v, r }, i) => {
    const p = adjusted[i] ?? 1;
    const target = v.result as VariationResult;
    target.pValueAdjusted = p;
    target.ciAdjusted = adjustedConfidenceInterval(p, r.uplift.mean, r.ci, alpha, alternative);
  });
}
